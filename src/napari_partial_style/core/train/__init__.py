"""Training the material classifier from image-level labels."""
