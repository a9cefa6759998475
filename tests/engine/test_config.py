"""RunConfig refuses every out-of-range or mistyped value with a message naming the field."""
import pytest

from engine import ConfigError, RunConfig


def test_defaults_are_the_seed_setup():
    c = RunConfig()
    assert (c.hidden, c.epochs, c.batch_size, c.lr, c.train_size, c.dataset, c.dtype, c.activation) == (
        200, 20, 64, 0.1, 20000, "mnist", "float32", "sigmoid")


@pytest.mark.parametrize("field, value, message", [
    ("hidden", -1, "hidden: must be from 0 to 4096, got -1"),  # 0 is allowed: no hidden layer
    ("hidden", 100000, "hidden: must be from 0 to 4096"),
    ("hidden", 2.5, "hidden: must be a whole number"),
    ("epochs", -1, "epochs: must be from 1 to 1000"),
    ("lr", 0.0, "lr: must be from 1e-08 to 1000"),
    ("lr", float("nan"), "lr: must be a finite number"),
    ("lam", float("inf"), "lam: must be a finite number"),
    ("lam", -0.1, "lam: must be from 0 to 10"),
    ("momentum", 1.0, "momentum: must be from 0 to 0.999"),
    ("train_size", 60001, "train_size: must be from 1 to 60000"),
    ("seed", -5, "seed: must be from 0"),
    ("penalty", "l3", "penalty: must be one of none, l1, l2, elastic"),
    ("activation", "softplus", "activation: must be one of"),
    ("init", "zeros", "init: must be one of"),
    ("dataset", "cifar", "dataset: must be one of mnist, fashion-mnist, synthetic"),
    ("hidden", True, "hidden: must be a whole number"),
    ("prune_fine_tune_steps", -1, "prune_fine_tune_steps: must be from 0 to 1000, got -1"),
    ("prune_fine_tune_steps", 1001, "prune_fine_tune_steps: must be from 0 to 1000, got 1001"),
    ("prune_fine_tune_steps", 2.5, "prune_fine_tune_steps: must be a whole number"),
    ("noise_features", -1, "noise_features: must be from 0 to 10000, got -1"),
    ("noise_features", 0.5, "noise_features: must be a whole number"),
    ("subset", "all", "subset: must be one of random, first"),
    ("test_split", "valid", "test_split: must be one of test, validation"),
])
def test_bad_values_name_field_and_range(field, value, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        RunConfig(**{field: value})
    assert info.value.field == field


def test_batch_size_cannot_exceed_train_size():
    with pytest.raises(ConfigError, match="batch_size: must be at most train_size"):
        RunConfig(train_size=10, batch_size=64)


def test_from_dict_refuses_unknown_keys_and_strings_for_numbers():
    with pytest.raises(ConfigError, match="unknown setting") as info:
        RunConfig.from_dict({"hiden": 3})
    assert info.value.field == "hiden"
    with pytest.raises(ConfigError, match="lr: must be a number, got str"):
        RunConfig.from_dict({"lr": "0.1"})
    with pytest.raises(ConfigError, match="body: expected an object"):
        RunConfig.from_dict([1, 2])
    assert RunConfig.from_dict({"hidden": 32.0, "penalty": "l2", "lam": 1}).hidden == 32


def test_a_lambda_the_penalty_does_not_use_is_refused():
    with pytest.raises(ConfigError, match="lam: is only used with a penalty .*choose penalty l1, l2 or elastic") as e:
        RunConfig(penalty="none", lam=0.01)
    assert e.value.field == "lam"
    with pytest.raises(ConfigError, match="lam_l2: is only used with the elastic net") as info:
        RunConfig(penalty="l2", lam=0.5, lam_l2=0.3)
    assert info.value.field == "lam_l2"
    assert RunConfig(penalty="none", lam=0.0).lam == 0.0
    assert RunConfig(penalty="elastic", lam=0.5, lam_l2=0.3).lam_l2 == 0.3


def test_resource_caps_name_the_limit():
    with pytest.raises(ConfigError, match="epochs × train_size must be at most 20,000,000") as info:
        RunConfig(epochs=1000, train_size=60000)
    assert info.value.field == "epochs"
    with pytest.raises(ConfigError, match="batch_size × hidden must be at most") as info:
        RunConfig(train_size=60000, batch_size=60000, hidden=4096)
    assert info.value.field == "batch_size"
    RunConfig(epochs=1000, train_size=20000)  # the largest allowed is fine
    with pytest.raises(ConfigError, match=r"prune_fine_tune_steps × batch_size × 26 must be at most 20,000,000 "
                                          r"\(got 20,800,000\)") as info:
        RunConfig(prune_fine_tune_steps=800, batch_size=1000)
    assert info.value.field == "prune_fine_tune_steps"
    RunConfig(prune_fine_tune_steps=1000, batch_size=769)  # 19,994,000 examples: allowed


@pytest.mark.parametrize("field", ["lr", "lam", "lam_l2", "momentum"])
@pytest.mark.parametrize("value", [10**400, -(10**309)])
def test_integers_past_the_float_range_are_refused_naming_the_field(field, value):
    """JSON integers have any size; float() and math.isfinite() raise OverflowError on these."""
    with pytest.raises(ConfigError) as caught:
        RunConfig.from_dict({"penalty": "elastic", field: value})
    assert caught.value.field == field and "finite number" in caught.value.message


def test_is_finite_number_takes_any_integer_without_raising():
    from engine.config import is_finite_number

    assert is_finite_number(3) and is_finite_number(2**1000) and is_finite_number(-1.5e308)
    assert not any(is_finite_number(v) for v in (10**400, -(10**309), float("nan"), float("inf"), True, "1", None))
