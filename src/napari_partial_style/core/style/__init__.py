"""Neural style transfer: style objectives and the L-BFGS transfer loop."""
