//! Data for the loop: a seeded random generator, epoch orders with optional
//! length bucketing, a Keras-like validation split, padding/collation
//! helpers, and the [`DataSource`] trait with an in-memory and a streaming
//! implementation.
//!
//! Why an own generator: the batch order must be the same for the same
//! `--seed` on every machine and every version of this crate's
//! dependencies, and must be recomputable from `(seed, epoch)` alone so a
//! resumed run sees the data in the order the interrupted one would have.
use tch::{Device, Kind, Tensor};

use crate::{TaskError, TaskResult};

/// SplitMix64: tiny, fast, well-mixed, stable forever.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// The whole state of the generator: `Rng::new(r.state())` continues
    /// `r`'s stream exactly (what a checkpoint saves, see
    /// [`crate::Task::task_state`]).
    pub fn state(&self) -> u64 {
        self.state
    }

    /// A generator for one (seed, stream) pair, e.g. (seed, epoch).
    pub fn for_stream(seed: u64, stream: u64) -> Rng {
        let mut r = Rng::new(seed ^ stream.wrapping_mul(0xA076_1D64_78BD_642F));
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), without modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "Rng::below(0)");
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let v = self.next_u64();
            if v < zone {
                return v % n;
            }
        }
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }

    /// `next_u64() % n` (n > 0): biased by less than `n / 2^64`, immaterial
    /// for the sizes drawn here. The IMDB split and the speech corpora were
    /// drawn with these modulo draws, so they keep them: the same seed must
    /// give the same split or corpus forever.
    pub fn index(&mut self, n: usize) -> usize {
        assert!(n > 0, "Rng::index(0)");
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform integer in `lo..=hi` by a modulo draw ([`Rng::index`]).
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        assert!(lo <= hi, "empty range {lo}..={hi}");
        lo + self.index(hi - lo + 1)
    }

    /// A uniformly chosen element (modulo draw).
    pub fn choose<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    /// A standard normal draw (Box-Muller, one per two uniforms).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.next_f64().max(1e-300);
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// Fisher-Yates with modulo draws ([`Rng::index`]): the shuffle of the
    /// IMDB split and the speech corpora (see there).
    pub fn shuffle_modulo<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }
}

/// Splits off the last `fraction` of `examples` as validation data, before
/// any shuffling, exactly like Keras' `validation_split` (so shuffle first
/// yourself if the data is sorted). Returns `(train, validation)`.
pub fn validation_split<E>(
    mut examples: Vec<E>,
    fraction: f64,
) -> Result<(Vec<E>, Vec<E>), crate::TrainError> {
    if !(0.0..1.0).contains(&fraction) {
        return Err(crate::TrainError::Config(format!(
            "validation split must be in [0, 1), got {fraction}"
        )));
    }
    // Keras: split_at = int(len * (1 - fraction)).
    let split_at = (examples.len() as f64 * (1.0 - fraction)).floor() as usize;
    let val = examples.split_off(split_at);
    Ok((examples, val))
}

/// The batches (lists of example indices) of one epoch.
///
/// Without `lengths`: a seeded shuffle of `0..n` cut into batches. With
/// `lengths` (length bucketing): the shuffled indices are cut into pools of
/// `batch_size × 32`, each pool is sorted by length and cut into batches, and
/// the batches are shuffled, so a batch holds sequences of similar length
/// (little padding) while the order stays random. With `shuffle = false`
/// (validation) the order is `0..n`, bucketed or not.
pub fn epoch_batches(
    n: usize,
    batch_size: usize,
    lengths: Option<&[usize]>,
    shuffle: bool,
    seed: u64,
    epoch: usize,
) -> Vec<Vec<usize>> {
    let batch_size = batch_size.max(1);
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = Rng::for_stream(seed, epoch as u64);
    if shuffle {
        rng.shuffle(&mut order);
    }
    let Some(lengths) = lengths else {
        return order.chunks(batch_size).map(|c| c.to_vec()).collect();
    };
    let pool = batch_size * 32;
    let mut batches: Vec<Vec<usize>> = Vec::new();
    for chunk in order.chunks(pool) {
        let mut chunk = chunk.to_vec();
        chunk.sort_by_key(|&i| lengths[i]);
        batches.extend(chunk.chunks(batch_size).map(|c| c.to_vec()));
    }
    if shuffle {
        rng.shuffle(&mut batches);
    }
    batches
}

/// Where the padding goes (Keras' `padding` / `truncating` arguments).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Pre,
    Post,
}

/// Pads (and truncates to `max_len` when given) integer sequences to a
/// `[B, T]` int64 tensor on `device`, plus the real lengths (at least 1, so
/// an empty sequence counts as one padding token, which the encoders need).
/// Keras' `pad_sequences` defaults are `Side::Pre` for both; with length-aware
/// encoders use `Side::Post` padding so the lengths describe a prefix.
pub fn pad_tokens(
    seqs: &[&[i64]],
    pad: i64,
    max_len: Option<usize>,
    padding: Side,
    truncating: Side,
    device: Device,
) -> (Tensor, Vec<i64>) {
    let longest = seqs.iter().map(|s| s.len()).max().unwrap_or(0);
    let t = max_len.unwrap_or(longest).max(1);
    let mut data = vec![pad; seqs.len() * t];
    let mut lengths = Vec::with_capacity(seqs.len());
    for (b, s) in seqs.iter().enumerate() {
        let s: &[i64] = if s.len() > t {
            match truncating {
                Side::Pre => &s[s.len() - t..],
                Side::Post => &s[..t],
            }
        } else {
            s
        };
        let row = &mut data[b * t..(b + 1) * t];
        match padding {
            Side::Post => row[..s.len()].copy_from_slice(s),
            Side::Pre => row[t - s.len()..].copy_from_slice(s),
        }
        lengths.push(s.len().max(1) as i64);
    }
    let tensor = Tensor::from_slice(&data)
        .reshape([seqs.len() as i64, t as i64])
        .to_device(device);
    (tensor, lengths)
}

/// Pads frame sequences (each `frames × dim` values, row-major) with zeros
/// after their end to a `[B, T, dim]` float tensor on `device`, plus lengths.
pub fn pad_frames(
    seqs: &[&[f32]],
    dim: usize,
    device: Device,
) -> Result<(Tensor, Vec<i64>), TaskError> {
    if dim == 0 {
        return Err("pad_frames: feature dimension is 0".into());
    }
    let mut lengths = Vec::with_capacity(seqs.len());
    for (i, s) in seqs.iter().enumerate() {
        if s.len() % dim != 0 {
            return Err(format!(
                "pad_frames: sequence {i} has {} values, not a multiple of {dim}",
                s.len()
            )
            .into());
        }
        lengths.push((s.len() / dim) as i64);
    }
    let t = lengths.iter().copied().max().unwrap_or(0).max(1) as usize;
    let mut data = vec![0f32; seqs.len() * t * dim];
    for (b, s) in seqs.iter().enumerate() {
        data[b * t * dim..b * t * dim + s.len()].copy_from_slice(s);
    }
    let tensor = Tensor::from_slice(&data)
        .reshape([seqs.len() as i64, t as i64, dim as i64])
        .to_device(device);
    Ok((tensor, lengths.iter().map(|&l| l.max(1)).collect()))
}

/// Stacks per-example scalars (labels) into a 1-D tensor of `kind`.
pub fn stack_labels(values: &[f64], kind: Kind, device: Device) -> Tensor {
    Tensor::from_slice(values).to_kind(kind).to_device(device)
}

/// An iterator of batches (each possibly an error from loading or collating).
pub type BatchIter<'a, B> = Box<dyn Iterator<Item = TaskResult<B>> + 'a>;

/// What the [`crate::Trainer`] pulls batches from.
pub trait DataSource {
    type Batch;
    /// The training batches of `epoch` (1-based). Their order must depend
    /// only on `(seed, epoch)`; that makes runs and resumed runs repeatable.
    fn train_batches(&mut self, epoch: usize, seed: u64) -> TaskResult<BatchIter<'_, Self::Batch>>;
    /// Number of training batches per epoch if known (for progress and
    /// the cosine schedule).
    fn train_len(&self) -> Option<usize>;
    /// Validation batches, `None` when there is no validation data.
    fn val_batches(&mut self) -> TaskResult<Option<BatchIter<'_, Self::Batch>>>;
}

type Collate<E, B> = Box<dyn Fn(&[&E]) -> TaskResult<B>>;
type LengthFn<E> = Box<dyn Fn(&E) -> usize>;

/// Examples held in memory, batched by a collate function.
pub struct InMemory<E, B> {
    pub train: Vec<E>,
    pub val: Vec<E>,
    pub batch_size: usize,
    collate: Collate<E, B>,
    lengths: Option<Vec<usize>>,
    val_lengths: Option<Vec<usize>>,
}

impl<E, B> InMemory<E, B> {
    /// `collate` turns a slice of examples into one batch (pad, stack, move
    /// to the device).
    pub fn new(
        train: Vec<E>,
        val: Vec<E>,
        batch_size: usize,
        collate: impl Fn(&[&E]) -> TaskResult<B> + 'static,
    ) -> InMemory<E, B> {
        InMemory {
            train,
            val,
            batch_size: batch_size.max(1),
            collate: Box::new(collate),
            lengths: None,
            val_lengths: None,
        }
    }

    /// Enables length bucketing (see [`epoch_batches`]) with `length(example)`.
    pub fn bucket_by(mut self, length: impl Fn(&E) -> usize + 'static) -> InMemory<E, B> {
        let f: LengthFn<E> = Box::new(length);
        self.lengths = Some(self.train.iter().map(&f).collect());
        self.val_lengths = Some(self.val.iter().map(&f).collect());
        self
    }

    fn batches_of<'a>(&'a self, examples: &'a [E], order: Vec<Vec<usize>>) -> BatchIter<'a, B> {
        Box::new(order.into_iter().map(move |idx| {
            let items: Vec<&E> = idx.iter().map(|&i| &examples[i]).collect();
            (self.collate)(&items)
        }))
    }
}

impl<E, B> DataSource for InMemory<E, B> {
    type Batch = B;

    fn train_batches(&mut self, epoch: usize, seed: u64) -> TaskResult<BatchIter<'_, B>> {
        let order = epoch_batches(
            self.train.len(),
            self.batch_size,
            self.lengths.as_deref(),
            true,
            seed,
            epoch,
        );
        Ok(self.batches_of(&self.train, order))
    }

    fn train_len(&self) -> Option<usize> {
        Some(self.train.len().div_ceil(self.batch_size))
    }

    fn val_batches(&mut self) -> TaskResult<Option<BatchIter<'_, B>>> {
        if self.val.is_empty() {
            return Ok(None);
        }
        let order = epoch_batches(
            self.val.len(),
            self.batch_size,
            self.val_lengths.as_deref(),
            false,
            0,
            0,
        );
        Ok(Some(self.batches_of(&self.val, order)))
    }
}

type ExampleStream<'a, E> = Box<dyn Iterator<Item = TaskResult<E>> + 'a>;
type OpenFn<E> = Box<dyn FnMut(usize) -> TaskResult<ExampleStream<'static, E>>>;

/// Examples read from a stream (files too large for memory): `open(epoch)`
/// yields the examples; they pass through a seeded shuffle buffer of
/// `buffer` examples and are collated `batch_size` at a time.
pub struct Streaming<E, B> {
    open_train: OpenFn<E>,
    open_val: Option<OpenFn<E>>,
    pub batch_size: usize,
    pub buffer: usize,
    collate: Collate<E, B>,
    len_hint: Option<usize>,
}

impl<E: 'static, B: 'static> Streaming<E, B> {
    pub fn new(
        open_train: impl FnMut(usize) -> TaskResult<ExampleStream<'static, E>> + 'static,
        batch_size: usize,
        buffer: usize,
        collate: impl Fn(&[&E]) -> TaskResult<B> + 'static,
    ) -> Streaming<E, B> {
        Streaming {
            open_train: Box::new(open_train),
            open_val: None,
            batch_size: batch_size.max(1),
            buffer: buffer.max(1),
            collate: Box::new(collate),
            len_hint: None,
        }
    }

    /// Validation examples (read in order, no shuffling).
    pub fn with_validation(
        mut self,
        open_val: impl FnMut(usize) -> TaskResult<ExampleStream<'static, E>> + 'static,
    ) -> Streaming<E, B> {
        self.open_val = Some(Box::new(open_val));
        self
    }

    /// Number of training batches per epoch, when known.
    pub fn with_len_hint(mut self, batches: usize) -> Streaming<E, B> {
        self.len_hint = Some(batches);
        self
    }
}

struct ShuffleBatches<'a, E, B> {
    source: ExampleStream<'static, E>,
    buffer: Vec<E>,
    capacity: usize,
    batch_size: usize,
    rng: Option<Rng>,
    collate: &'a Collate<E, B>,
    exhausted: bool,
}

impl<E, B> Iterator for ShuffleBatches<'_, E, B> {
    type Item = TaskResult<B>;
    fn next(&mut self) -> Option<TaskResult<B>> {
        let mut batch: Vec<E> = Vec::with_capacity(self.batch_size);
        while batch.len() < self.batch_size {
            while !self.exhausted && self.buffer.len() < self.capacity {
                match self.source.next() {
                    Some(Ok(e)) => self.buffer.push(e),
                    Some(Err(e)) => return Some(Err(e)),
                    None => self.exhausted = true,
                }
            }
            if self.buffer.is_empty() {
                break;
            }
            let i = match &mut self.rng {
                Some(r) => r.below(self.buffer.len() as u64) as usize,
                None => 0,
            };
            let e = if self.rng.is_some() {
                self.buffer.swap_remove(i)
            } else {
                self.buffer.remove(0)
            };
            batch.push(e);
        }
        if batch.is_empty() {
            return None;
        }
        let refs: Vec<&E> = batch.iter().collect();
        Some((self.collate)(&refs))
    }
}

impl<E: 'static, B: 'static> DataSource for Streaming<E, B> {
    type Batch = B;

    fn train_batches(&mut self, epoch: usize, seed: u64) -> TaskResult<BatchIter<'_, B>> {
        let source = (self.open_train)(epoch)?;
        Ok(Box::new(ShuffleBatches {
            source,
            buffer: Vec::new(),
            capacity: self.buffer,
            batch_size: self.batch_size,
            rng: Some(Rng::for_stream(seed, epoch as u64)),
            collate: &self.collate,
            exhausted: false,
        }))
    }

    fn train_len(&self) -> Option<usize> {
        self.len_hint
    }

    fn val_batches(&mut self) -> TaskResult<Option<BatchIter<'_, B>>> {
        let Some(open) = self.open_val.as_mut() else {
            return Ok(None);
        };
        let source = open(0)?;
        Ok(Some(Box::new(ShuffleBatches {
            source,
            buffer: Vec::new(),
            capacity: self.batch_size,
            batch_size: self.batch_size,
            rng: None,
            collate: &self.collate,
            exhausted: false,
        })))
    }
}
