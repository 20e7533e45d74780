"""Placeholder: graph rendering lands with its own change."""


def to_dot(root, **options):
    raise NotImplementedError


def draw_graph(root, **options):
    raise NotImplementedError
