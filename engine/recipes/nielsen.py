"""Nielsen's L2 results (Neural Networks and Deep Learning, chapter 3), two recipes.

His penalty is ``(λ/2n)·Σw²`` over the n training images, so his gradient step is
``−η·(λ/n)·w``; normlab's L2 is ``½·λ·‖W‖²``, step ``−lr·λ·W``. The two are the same penalty
with normlab's λ = his λ / n: 0.1 / 1 000 = 1e-4 and 5.0 / 50 000 = 1e-4. His data term is a
mean over the mini-batch, as normlab's is.

What differs, said beside every verdict: his output layer is ten sigmoid units with a
cross-entropy per unit, normlab's a softmax with one cross-entropy; his pixels are in [0, 1],
normlab's in [−1, 1]; his "large" initialisation draws the biases from N(0, 1) too, normlab
starts them at 0 (the weights are N(0, 1), ``std_normal``, in both).
"""
from __future__ import annotations

from ..config import RunConfig
from ..studies import StudySpec
from .claims import OrderingClaim, Setting, ValueClaim, metric
from .model import Arm, Recipe, Source

CITATION = "Michael A. Nielsen, Neural Networks and Deep Learning, Determination Press, 2015, chapter 3"
WHERE = "http://neuralnetworksanddeeplearning.com/chap3.html, section “Overfitting and regularization”"
DIFFERENCES = ("his output layer is sigmoid units with cross-entropy, ours softmax; his pixels are in [0, 1], "
               "ours in [−1, 1]; his biases start N(0, 1), ours at 0")
CONVERSION = "his λ = {his} over n = {n} images is normlab's L2 λ = {his} / {n} = 1e-4 (his penalty is (λ/2n)·Σw²)"

OVERFITTING_ARM = "1 000 images, 400 epochs"
NONE, L2 = Setting(OVERFITTING_ARM, "none"), Setting(OVERFITTING_ARM, "l2", 1e-4)
PEAK = metric("peak_test_accuracy")

OVERFITTING = Recipe(
    name="nielsen-overfitting",
    version=1,
    title="Nielsen: L2 on 1 000 training images, peak test accuracy over 400 epochs",
    question="Trained on only the first 1 000 images, how high does a 784-30-10 network's test accuracy peak "
             "without a penalty, and with his L2?",
    sources=(
        Source(CITATION, WHERE + ", unregularized run",
               "Meanwhile, our test accuracy tops out at just 82.27 percent."),
        Source(CITATION, WHERE + ", regularized run (λ = 0.1)",
               "What's more, the accuracy is considerably higher, with a peak classification accuracy of 87.1 "
               "percent, compared to the peak of 82.27 percent obtained in the unregularized case."),
    ),
    arms=(Arm(OVERFITTING_ARM, StudySpec(
        ("none", "l2"), (), 3,
        RunConfig(hidden=30, train_size=1000, subset="first", batch_size=10, lr=0.5, epochs=400, init="std_normal"),
        {"l2": (1e-4,)})),),
    claims=(
        ValueClaim("peak test accuracy, no penalty", 0.8227, NONE, PEAK, 0.01, DIFFERENCES, mark=True),
        ValueClaim("peak test accuracy, L2 (his λ = 0.1)", 0.871, L2, PEAK, 0.01, DIFFERENCES, mark=True),
        OrderingClaim("peak test accuracy: L2 > no penalty", (L2, NONE), PEAK, (0.871, 0.8227), DIFFERENCES),
    ),
    notes=(CONVERSION.format(his="0.1", n="1 000"),
           "Peaks are the best test accuracy over the 400 epochs, as he compares them.",
           "Tolerance 1 point: with 1 000 training images the peak moves by about that much from seed to seed.",
           "The differences from his network: " + DIFFERENCES + "."),
)

FAST, SLOW = "30 epochs, η = 0.5", "60 epochs, η = 0.1"
L2_100 = Recipe(
    name="nielsen-l2-100",
    version=1,
    title="Nielsen: 784-100-10 with L2 on 50 000 images, accuracy on his 10 000 validation images",
    question="With 100 hidden units and his λ = 5.0, does the network reach his 97.92 % (30 epochs at η = 0.5) "
             "and 98.04 % (60 epochs at η = 0.1) on the validation images?",
    sources=(
        Source(CITATION, WHERE + ", 100 hidden neurons",
               "The final result is a classification accuracy of 97.92 percent on the validation data."),
        Source(CITATION, WHERE + ", 100 hidden neurons",
               "In fact, tuning just a little more, to run for 60 epochs at η = 0.1 and λ = 5.0 we break the 98 percent "
               "barrier, achieving 98.04 percent classification accuracy on the validation data."),
    ),
    arms=tuple(Arm(name, StudySpec(
        ("l2",), (1e-4,), 3,
        RunConfig(hidden=100, train_size=50_000, subset="first", test_split="validation", batch_size=10, lr=lr,
                  epochs=epochs, init="std_normal")))
        for name, lr, epochs in ((FAST, 0.5, 30), (SLOW, 0.1, 60))),
    claims=(
        ValueClaim("validation accuracy, 30 epochs at η = 0.5", 0.9792, Setting(FAST, "l2", 1e-4),
                   metric("test_accuracy"), 0.003, DIFFERENCES, mark=True),
        ValueClaim("validation accuracy, 60 epochs at η = 0.1", 0.9804, Setting(SLOW, "l2", 1e-4),
                   metric("test_accuracy"), 0.003, DIFFERENCES),
    ),
    notes=(CONVERSION.format(his="5.0", n="50 000"),
           "Training on MNIST's first 50 000 training images; measured on images 50 000–59 999, his validation set "
           "(test_split validation). His figures are the final epoch's, so ours are too.",
           "Tolerance 0.3 points: about twice the binomial spread of an accuracy near 98 % on 10 000 images.",
           "The differences from his network: " + DIFFERENCES + "."),
)
