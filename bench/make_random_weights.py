"""Write random-weight VGG16/VGG19 checkpoints under torchvision's names into TORCH_HOME's hub.

For timing runs on machines without internet: speed does not depend on the weights' values.
Never use the results of such a run as pictures or scores.
"""

import os
import sys

import torch
import torchvision

from napari_partial_style.core.io import weights

if not os.environ.get("TORCH_HOME"):
    sys.exit(
        "set TORCH_HOME to a scratch folder first: random weights must never land in the real hub cache, "
        "where every later job would use them"
    )
folder = weights.hub_folder()
folder.mkdir(parents=True, exist_ok=True)
torch.manual_seed(0)
for weight, model in ((weights.VGG19, torchvision.models.vgg19), (weights.VGG16, torchvision.models.vgg16)):
    if (folder / weight.filename).exists():
        sys.exit(f"{folder / weight.filename} exists; not overwritten (it may hold real weights)")
    torch.save(model(weights=None).state_dict(), folder / weight.filename)
print(folder)
