"""Write random-weight VGG16/VGG19 checkpoints under torchvision's names into TORCH_HOME's hub.

For timing runs on machines without internet: speed does not depend on the weights' values.
Never use the results of such a run as pictures or scores.
"""

import torch
import torchvision

from napari_partial_style.core import weights

folder = weights.hub_folder()
folder.mkdir(parents=True, exist_ok=True)
torch.manual_seed(0)
torch.save(torchvision.models.vgg19(weights=None).state_dict(), folder / weights.VGG19.filename)
torch.save(torchvision.models.vgg16(weights=None).state_dict(), folder / weights.VGG16.filename)
print(folder)
