"""Network building blocks the stages share: VGG bodies with named taps (the classifier's and the style
network's), networks loaded once per process, and images as the networks take them."""
