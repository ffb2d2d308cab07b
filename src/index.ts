// The public API of sdfn: every exported name is listed here explicitly.
export { Registry, KINDS, type Kind, type Declaration } from "./registry/registry.js";
export type * from "./registry/kinds.js";
export { ParamStore, ParamScope } from "./nn/scope.js";
export { zeros, ones, constant, normal, uniform, glorotUniform, heNormal, type Init } from "./nn/scope.js";
export {
  defineModule,
  defineRouter,
  defineImageEncoder,
  defineTextEncoder,
  defineLoss,
  defineOptimizer,
  defineSchedule,
  defineDataset,
} from "./registry/define.js";
export { createRegistry } from "./builtins.js";
export { loadPlugin, PluginError, type PluginRegistry } from "./registry/plugins.js";
export { describeParams, type KindEntry, type DatasetEntry, type ParamInfo } from "./registry/schema.js";
export {
  loadRecipe,
  loadRegistry,
  paramsOf,
  canonicalJson,
  recipeJsonSchema,
  RecipeError,
  formatProblem,
  RECIPE_VERSION,
  BACKENDS,
  type LoadOptions,
  type LoadedRecipe,
  type Problem,
  type Recipe,
} from "./recipe/index.js";
export {
  openDataset,
  loadDatasetSource,
  DataError,
  buildVocabulary,
  loadVocabulary,
  saveVocabulary,
  tokenize,
  FeatureCache,
  cachedBackbone,
  datasetStatistics,
  type OpenDataset,
  type Pair,
  type EvalSet,
  type EvalQuery,
  type Vocabulary,
  type BatchLoader,
  type TrainBatch,
  type DatasetSource,
  type DatasetBuildContext,
} from "./data/index.js";
export {
  compileNetwork,
  type Network,
  type NetworkRecipe,
  type NetworkSpec,
  type QueryInput,
  type QueryOutput,
  type FusionLayer,
  type CompileOptions,
} from "./graph/compile.js";
export { summarizeNetwork } from "./graph/summary.js";
export {
  useBackend,
  backendStatus,
  autoChoice,
  backendNames,
  batchNormTrain,
  fallbackCounts,
  resetFallbackCounts,
  nativeKernelNames,
  type BackendName,
  type BackendAvailability,
} from "./backend/index.js";
export { writeReport, renderReport, readRun, RunDirError, type RunRecord } from "./report/index.js";
export { readSafetensors, writeSafetensors, type SafeTensor, type SafetensorsFile, type SafeDtype } from "./io/safetensors.js";
export { train, type TrainOptions, type RunSummary } from "./run/train.js";
export { PRIMARY_METRIC } from "./train/trainer.js";
export { batchesPerEpoch, type EpochBatching } from "./data/epoch-batches.js";
export { openSession, type Session, type SessionOptions } from "./run/session.js";
export { RunDir, RUN_FILES } from "./run/run-dir.js";
export type { TrainEvent, EventSink, RunInfo } from "./train/events.js";
export type {
  Loss,
  LossInput,
  LossBuildContext,
  Optimizer,
  OptimizerBuildContext,
  OptimizerState,
  Schedule,
  ScheduleBuildContext,
} from "./registry/kinds-training.js";
export { readCheckpoint, saveCheckpoint, type CheckpointMeta, type CheckpointTag } from "./run/checkpoint.js";
export { evaluate, rankSet, type EvaluateOptions } from "./eval/evaluate.js";
export { recallMetrics, summaryRecall } from "./eval/protocols.js";
export { positiveRanks, topK, recallAt } from "./eval/retrieval.js";
export { embedGallery, embedQueries as embedEvaluationQueries } from "./eval/embed.js";
export { openRun as openRunWithDataset, type OpenedRun } from "./run/open-run.js";
export { embedImages, embedQueries } from "./infer/api.js";
export {
  openRun,
  RunModel,
  InputError,
  type OpenRunOptions,
  type RunIdentity,
  type Embeddings,
  type Query,
  type QueryEmbeddings,
  type EmbedOptions,
  type ImageInput,
} from "./infer/model.js";
export { openIndex, search, CatalogueIndex, type Hit, type SearchOptions } from "./catalogue/search.js";
export { IndexError } from "./catalogue/files.js";
export { Rng } from "./util/rng.js";
