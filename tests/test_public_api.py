"""Every name the packages export resolves, so the README's imports keep working."""

import pytest

import deepdream
import inception_keras


@pytest.mark.parametrize("package", [inception_keras, deepdream], ids=lambda p: p.__name__)
def test_every_exported_name_resolves(package):
    for name in package.__all__:
        assert getattr(package, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute"):
        package.no_such_name  # noqa: B018
