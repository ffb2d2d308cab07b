// The one error of the weight-file readers (torch-pickle.ts, torch-file.ts, state-dict.ts): the
// message names the file and where in it — a tensor's key, a zip entry, or a byte offset — and
// what to do. Callers that know the recipe key (the encoders) rethrow it as the user's error.
export class StateDictError extends Error {
  override name = "StateDictError";
}
