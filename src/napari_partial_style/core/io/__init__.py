"""Files: images, bundles, pretrained weights and atomic writes."""
