"""Models for feature-parity tests: served predictions of an identity model are its features."""


def identity_script(num_features):
    """A TorchScript module returning its input (needs python3-torch)."""
    import torch

    class Identity(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.num_features = num_features
            self.num_outputs = num_features

        def forward(self, x):
            return x * 1.0

    return torch.jit.script(Identity())
