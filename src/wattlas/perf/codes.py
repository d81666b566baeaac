"""Integer codes of the categorical layout fields, as the vectorised layout arrays store them.

One small module so that the layout rules (:mod:`wattlas.perf.training.layout`) and the
software-year
feature rules (:mod:`wattlas.perf.training.software`) share them without importing each other.
"""

#: recompute: Megatron's selective (attention core) and full; "op" is PyTorch's op-level
#: selective checkpointing as torchtitan configures it (every compute op's output saved except
#: every second matmul's and the elementwise ops')
RECOMPUTE_CODE = {"none": 0, "selective": 1, "full": 2, "op": 3}
#: the recompute modes the layout search tries when the user fixes none
SEARCHED_RECOMPUTE = ("none", "selective", "full")
#: host offload: 1 optimizer states (CPU Adam), 2 also the weights, 3 the stored activations
OFFLOAD_CODE = {"none": 0, "optimizer": 1, "optimizer+weights": 2, "activations": 3}
