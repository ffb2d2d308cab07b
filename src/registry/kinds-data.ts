// The kind contract of datasets: what a dataset declaration's build receives and returns —
// training pairs, evaluation sets and where the images come from — and the vocabulary contract
// (KindContracts in ./kinds.ts; the built-ins in src/data/datasets/, the loader in src/data/).

/** One training triplet: reference image + modification text → target image. */
export interface Pair {
  /** Stable index into `OpenDataset.train` (the path-distillation cache keys on it). */
  id: number;
  reference: string; // image id
  target: string; // image id
  text: string;
  category?: string;
}

export interface EvalQuery {
  reference: string;
  text: string;
  /** Gallery indices that count as a hit. */
  positives: number[];
  /** Gallery indices removed from this query's ranking (the reference itself). */
  exclude: number[];
  /** What kind of modification the text asks for (shapes: the edit kind), for per-kind recall and routing. */
  kind?: string;
}

export interface EvalSet {
  /** "dress", "shoes", "all", … */
  name: string;
  /** Image ids. */
  gallery: string[];
  queries: EvalQuery[];
  /**
   * The gallery is the images its queries name, references and targets (FashionIQ's VAL
   * protocol): dropping queries (data.missing_images: skip) drops the images only they named.
   */
  galleryOfQueries?: boolean;
}

export interface Vocabulary {
  /** Number of ids, specials included (<pad> = 0, <unk> = 1). */
  size: number;
  words: readonly string[];
  /** Token ids of `text` (unknown words → 1), not truncated. */
  encode(text: string): number[];
  toJSON(): unknown;
}

/** Normalised pixels of one image, (H, W, 3) row-major float32. */
export interface Pixels {
  data: Float32Array;
  height: number;
  width: number;
}

/** Where a dataset's images come from. */
export interface ImageSource {
  /** Absolute file path of an image id, or undefined for generated images. */
  path(id: string): string | undefined;
  /** Decoded, augmented and normalised pixels (image_size × image_size). */
  load(id: string, augment: Augment | undefined): Promise<Pixels>;
  /** Optional: the same pixels written straight into `out` from `offset` on (a batch buffer; no per-image copy). */
  loadInto?(id: string, augment: Augment | undefined, out: Float32Array, offset: number): Promise<void>;
}

/** Per-image training augmentation, drawn before decoding so results do not depend on decode order. */
export interface Augment {
  /** Crop offsets as fractions in [0, 1) of the free room. */
  cropX: number;
  cropY: number;
  flip: boolean;
}

/** What a dataset declaration builds: pairs and evaluation sets over image ids. */
export interface DatasetSource {
  train: Pair[];
  evalSets: EvalSet[];
  images: ImageSource;
  /** Paths (or ids) of referenced images that do not exist on disk. */
  missing: string[];
  /** The image ids behind `missing` (statistics count them per split). */
  missingIds?: ReadonlySet<string>;
  /** Root directory the images were looked up under (for messages). */
  root?: string;
  /** Reference recalls of single-modality baselines on `set`, in percent: {"image only": {"R@10": …}, …}. */
  baselines?: Baselines;
  /** Counts the dataset reports about its evaluation protocol (Fashion200k: duplicate label lines, …); `sdfn data` prints them. */
  protocolCounts?: Record<string, number>;
}

/** Baseline name → "R@K" → percent, for one evaluation set (e.g. shapes' image-only and text-only rankings). */
export type Baselines = (set: EvalSet, ks: readonly number[]) => Record<string, Record<string, number>>;

/** What a dataset's build receives. */
export interface DatasetBuildContext {
  /** The recipe seed. */
  seed: number;
  /** Relative data paths resolve against it (the current working directory). */
  cwd: string;
  /**
   * The user passed --allow-outside-root: paths read from list files may leave data.root. The
   * recipe's own path parameters made with dataPathParam are checked before build is called.
   */
  allowOutsideRoot: boolean;
}
