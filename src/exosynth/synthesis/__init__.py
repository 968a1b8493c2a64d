"""Numbers made from the evidence streams: translation gap, effect sizes, pooling, quality."""
