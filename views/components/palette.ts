import { createContext, useContext } from "hono/jsx";
import { ModelPalette } from "../../server/usage/palette.ts";

// The render's palette reaches every swatch through JSX context (set by the layout and by
// page-env.ts's fragment helper), so no component needs it as a prop and no module holds it.
export const PaletteContext = createContext<ModelPalette>(new ModelPalette());

export function usePalette(): ModelPalette {
  return useContext(PaletteContext);
}

/** CSS class for a swatch: "mc-3", or "mc-none" for no value / "(other)". */
export function colorClass(index: number): string {
  return index < 0 ? "mc-none" : `mc-${index}`;
}
