//! Connectionist temporal classification computed natively: the alpha-beta
//! (forward-backward) loss and gradient, a bridge that makes it a tch loss,
//! decoders and forced alignment.
