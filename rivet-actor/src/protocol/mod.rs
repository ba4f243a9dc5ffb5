//! Wire messages and codecs of RivetKit client protocol v4.
