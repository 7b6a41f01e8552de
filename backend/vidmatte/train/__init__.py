"""Dataset building, synthetic masks, augmentation, training and evaluation of the matting head."""
