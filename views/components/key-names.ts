import { createContext, useContext } from "hono/jsx";
import type { KeyNames } from "../../server/keys/key-names-store.ts";

// The admin's key names reach every key cell through JSX context (set by the layout and by
// page-env.tsx's fragment helper), as the palette does.
export const KeyNamesContext = createContext<KeyNames>(new Map());

export function useKeyNames(): KeyNames {
  return useContext(KeyNamesContext);
}
