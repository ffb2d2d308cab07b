// Sizes libuv's thread pool (sharp decodes images on it; the default is 4 threads) to the
// machine's cores. libuv reads UV_THREADPOOL_SIZE once, when the pool first starts, and Node's
// ES module loader starts it while loading the first module: so this runs from a CommonJS entry
// before any import. A value already in the environment wins.
const { availableParallelism } = require("node:os");

if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = String(Math.max(4, Math.min(128, availableParallelism())));
