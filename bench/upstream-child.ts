import { startFakeUpstream } from "../test/fake-upstream.ts";
import { serveParent } from "./child-rpc.ts";

// The fake Nscale upstream in its own process: it is the "direct" target, and it must not share
// an event loop (or a CPU time slice) with either the load generator or tollbooth.
const fake = await startFakeUpstream({ host: "127.0.0.1", recordRequests: false });
serveParent({ url: fake.url }, {
  close: async () => {
    await fake.close();
  },
});
