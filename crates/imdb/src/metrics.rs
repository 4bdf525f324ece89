//! Binary classification metrics for `imdb eval`: accuracy, precision,
//! recall, F1 from the confusion matrix at a 0.5 threshold, and ROC AUC from
//! the ranks of the scores (the Mann-Whitney statistic, ties counted half),
//! which is O(n log n) where the definition is O(n^2).
use serde::Serialize;

/// Counts at a threshold; "positive" is label 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Confusion {
    pub tp: usize,
    pub fp: usize,
    pub tn: usize,
    pub fn_: usize,
}

impl Confusion {
    pub fn new(probs: &[f64], labels: &[u8], threshold: f64) -> Self {
        let mut c = Confusion::default();
        for (&p, &y) in probs.iter().zip(labels) {
            match (p >= threshold, y == 1) {
                (true, true) => c.tp += 1,
                (true, false) => c.fp += 1,
                (false, false) => c.tn += 1,
                (false, true) => c.fn_ += 1,
            }
        }
        c
    }
    pub fn total(&self) -> usize {
        self.tp + self.fp + self.tn + self.fn_
    }
    pub fn accuracy(&self) -> f64 {
        ratio(self.tp + self.tn, self.total())
    }
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Area under the ROC curve: the probability that a random positive scores
/// above a random negative (ties count 1/2). `None` when one class is absent.
pub fn roc_auc(scores: &[f64], labels: &[u8]) -> Option<f64> {
    let n_pos = labels.iter().filter(|&&y| y == 1).count();
    let n_neg = labels.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Sum of the (1-based, tie-averaged) ranks of the positives.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += avg_rank * idx[i..=j].iter().filter(|&&k| labels[k] == 1).count() as f64;
        i = j + 1;
    }
    let u = rank_sum - (n_pos * (n_pos + 1)) as f64 / 2.0;
    Some(u / (n_pos as f64 * n_neg as f64))
}

/// Everything `imdb eval` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub n: usize,
    pub accuracy: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub roc_auc: Option<f64>,
    pub confusion: Confusion,
}

impl Report {
    pub fn new(probs: &[f64], labels: &[u8]) -> Self {
        let c = Confusion::new(probs, labels, 0.5);
        Report {
            n: probs.len(),
            accuracy: c.accuracy(),
            precision: c.precision(),
            recall: c.recall(),
            f1: c.f1(),
            roc_auc: roc_auc(probs, labels),
            confusion: c,
        }
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.confusion;
        writeln!(f, "reviews    {}", self.n)?;
        writeln!(f, "accuracy   {:.4}", self.accuracy)?;
        writeln!(f, "precision  {:.4}", self.precision)?;
        writeln!(f, "recall     {:.4}", self.recall)?;
        writeln!(f, "f1         {:.4}", self.f1)?;
        match self.roc_auc {
            Some(a) => writeln!(f, "roc_auc    {a:.4}")?,
            None => writeln!(f, "roc_auc    n/a (one class only)")?,
        }
        writeln!(f, "confusion matrix (rows: true, columns: predicted)")?;
        writeln!(f, "             pred neg  pred pos")?;
        writeln!(f, "  true neg  {:>9} {:>9}", c.tn, c.fp)?;
        write!(f, "  true pos  {:>9} {:>9}", c.fn_, c.tp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute_auc(scores: &[f64], labels: &[u8]) -> f64 {
        let mut num = 0.0;
        let mut den = 0.0;
        for i in 0..scores.len() {
            for j in 0..scores.len() {
                if labels[i] == 1 && labels[j] == 0 {
                    den += 1.0;
                    if scores[i] > scores[j] {
                        num += 1.0;
                    } else if scores[i] == scores[j] {
                        num += 0.5;
                    }
                }
            }
        }
        num / den
    }

    #[test]
    fn auc_matches_pairwise_count_with_ties() {
        let mut rng = crate::data::SplitMix64::new(3);
        for trial in 0..50 {
            let n = 5 + trial * 7;
            // Coarse scores so ties are common.
            let scores: Vec<f64> = (0..n).map(|_| rng.index(11) as f64 / 10.0).collect();
            let labels: Vec<u8> = (0..n)
                .map(|i| (rng.index(3) == 0 || i == 0) as u8)
                .collect();
            let mut labels = labels;
            labels[1] = 0;
            let fast = roc_auc(&scores, &labels).unwrap();
            assert!((fast - brute_auc(&scores, &labels)).abs() < 1e-12);
        }
        assert_eq!(roc_auc(&[0.1, 0.2], &[1, 1]), None);
    }

    #[test]
    fn confusion_and_derived_metrics_by_hand() {
        let probs = [0.9, 0.8, 0.3, 0.6, 0.1, 0.5];
        let labels = [1, 1, 1, 0, 0, 0];
        let c = Confusion::new(&probs, &labels, 0.5);
        assert_eq!(
            c,
            Confusion {
                tp: 2,
                fp: 2,
                tn: 1,
                fn_: 1
            }
        );
        assert_eq!(c.accuracy(), 0.5);
        assert_eq!(c.precision(), 0.5);
        assert!((c.recall() - 2.0 / 3.0).abs() < 1e-12);
        assert!((c.f1() - 4.0 / 7.0).abs() < 1e-12);
    }
}
