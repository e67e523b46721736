"""The template sandbox: files confined to their folder, and every render bounded in work."""

from __future__ import annotations

import functools
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, Template, TemplateError, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.environment import Environment
from jinja2.exceptions import SecurityError
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range

# An email's templates need none of these anywhere near; each stops a denial of service.
MAX_INT_BITS = 4096  # `9**(10**8)` would take the event loop for 30+ s
MAX_TEXT_CHARS = 100_000  # any one string or list a template builds
MAX_SIZE_ARG = 10_000  # a width, count or length passed to a filter or method
MAX_LOOP_ITERATIONS = 10_000  # per render, across all loops, nested ones included
MAX_TEMPLATE_BYTES = 256 * 1024
_BOUNDED_ITER = "coachd_bounded_iter"
# A width or precision of 100,000 or more inside a %- or {}-format string.
_WIDE_FORMAT = re.compile(r"[%:][^a-zA-Z%{}]*?\d{6,}")
_FORMAT_FILTER = "format"
OUTSIDE = "resolves outside the templates folder (a symlink?)"
_budget: ContextVar[list[int]] = ContextVar("template_loop_budget")


class TemplateRefused(TemplateError):
    """Raised when a template file resolves outside its folder or is not a plain, small file."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"template {name}: {reason}")
        self.name = name
        self.reason = reason


def refusal(root: Path, path: Path) -> str | None:
    """Why `path` (under `root`) may not be read as a template, or None when it may."""
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(os.path.realpath(root)):
        return OUTSIDE
    info = real.stat()
    if stat.S_ISDIR(info.st_mode):
        return None  # a folder inside the folder: its files are checked one by one
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file"
    if info.st_size > MAX_TEMPLATE_BYTES:
        return f"is larger than {MAX_TEMPLATE_BYTES} bytes"
    return None


def _checked(root: Path, path: Path) -> str | None:
    try:
        return refusal(root, path)
    except OSError as exc:  # a dangling symlink, a file that cannot be read
        return f"cannot be read ({exc.strerror})"


def refused_templates(root: Path) -> list[tuple[Path, str]]:
    """Every entry under `root` that the loader would refuse, with the reason (check-config)."""
    found: list[tuple[Path, str]] = []
    for folder, dirs, files in os.walk(root):  # symlinked folders are listed, not entered
        for name in sorted(files + [d for d in dirs if Path(folder, d).is_symlink()]):
            path = Path(folder, name)
            if (reason := _checked(root, path)) is not None:
                found.append((path, reason))
    return found


class ConfinedLoader(FileSystemLoader):
    """A folder loader that refuses files whose real path leaves the folder, before reading."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self._root = root

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        path = self._root.joinpath(*split_template_path(template))
        if os.path.lexists(path) and (reason := _checked(self._root, path)) is not None:
            raise TemplateRefused(template, reason)
        return super().get_source(environment, template)


def _bounded_args(func: Callable[..., Any], *, skip: int = 0) -> Callable[..., Any]:
    """`func` refusing size arguments over MAX_SIZE_ARG; the first `skip` are not sizes."""
    skip += 1 if hasattr(func, "jinja_pass_arg") else 0  # the context Jinja passes first

    @functools.wraps(func)  # keeps Jinja's pass_context/pass_eval_context markers
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _check_sizes((*args[skip:], *kwargs.values()))
        return func(*args, **kwargs)

    return wrapper


def _check_format(text: object) -> None:
    if isinstance(text, str) and _WIDE_FORMAT.search(text):
        raise SecurityError(f"a format width or precision is larger than {MAX_SIZE_ARG}")


def _check_sizes(values: Iterable[object]) -> None:
    for value in values:
        if isinstance(value, int) and abs(value) > MAX_SIZE_ARG:
            raise SecurityError(f"argument {value} is larger than {MAX_SIZE_ARG}")


def _check_result(value: Any) -> Any:
    if isinstance(value, str | list | tuple) and len(value) > MAX_TEXT_CHARS:
        raise SecurityError(f"a template built a value longer than {MAX_TEXT_CHARS}")
    return value


def _bounded_iter(iterable: Iterable[Any]) -> Iterator[Any]:
    budget = _budget.get(None)
    if budget is None:  # rendered other than by BoundedTemplate.render: a budget of its own
        budget = [MAX_LOOP_ITERATIONS]
    for item in iterable:
        budget[0] -= 1
        if budget[0] < 0:
            raise SecurityError(f"more than {MAX_LOOP_ITERATIONS} loop iterations in one render")
        yield item


class BoundedTemplate(Template):
    """A template whose every render (includes and macros in it too) shares one loop budget."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        token = _budget.set([MAX_LOOP_ITERATIONS])
        try:
            return super().render(*args, **kwargs)
        finally:
            _budget.reset(token)


class _BoundedCodeGenerator(CodeGenerator):
    """Bounds the strings `~` concatenation builds, like the intercepted `+`."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.check_result(")
        super().visit_Concat(node, frame)
        self.write(")")


def _count_iterations(template: nodes.Template) -> None:
    """Every loop's iterable goes through the render's iteration budget (nested loops too)."""
    for loop in template.find_all(nodes.For):
        if not (isinstance(loop.iter, nodes.Filter) and loop.iter.name == _BOUNDED_ITER):
            loop.iter = nodes.Filter(loop.iter, _BOUNDED_ITER, [], [], None, None)


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with every operation bounded, so any template renders fast."""

    code_generator_class = _BoundedCodeGenerator
    template_class = BoundedTemplate
    # Intercepted operators are also never constant-folded at compile time.
    intercepted_binops = frozenset({"**", "*", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # A filter's first argument is the value it filters, not a size.
        self.filters = {name: _bounded_args(f, skip=1) for name, f in self.filters.items()}
        self.filters[_FORMAT_FILTER] = _checked_format_filter(self.filters[_FORMAT_FILTER])
        self.filters[_BOUNDED_ITER] = _bounded_iter
        self.globals["range"] = _bounded_args(safe_range)

    check_result = staticmethod(_check_result)

    def _generate(
        self,
        source: nodes.Template,
        name: str | None,
        filename: str | None,
        defer_init: bool = False,
    ) -> str:
        # Jinja's one hook between parsing and code generation (3.x); the AST is ours here.
        _count_iterations(source)
        return super()._generate(source, name, filename, defer_init)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and _big_power(left, right):
            raise SecurityError(f"the power would exceed {MAX_INT_BITS} bits")
        if operator == "*":
            _check_product(left, right)
        if operator == "%" and isinstance(left, str):
            _check_format(left)
            _check_sizes(right if isinstance(right, tuple) else (right,))
        return _check_result(super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _check_sizes((*args, *kwargs.values()))
        _check_format(getattr(getattr(__obj, "__wrapped__", __obj), "__self__", None))
        return _check_result(super().call(__context, __obj, *args, **kwargs))


def _checked_format_filter(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(value: Any, *args: Any, **kwargs: Any) -> Any:
        _check_format(value)
        return func(value, *args, **kwargs)

    return wrapper


def _big_power(base: Any, exponent: Any) -> bool:
    if not (isinstance(base, int) and isinstance(exponent, int)) or exponent < 0:
        return False  # floats overflow (an error) at once; negative powers are floats
    return max(base.bit_length(), 1) * exponent > MAX_INT_BITS and abs(base) > 1


def _check_product(left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise SecurityError(f"the product would exceed {MAX_INT_BITS} bits")
        return
    sequence, count = (left, right) if isinstance(right, int) else (right, left)
    sized = isinstance(sequence, str | list | tuple) and isinstance(count, int)
    if sized and len(sequence) * count > MAX_TEXT_CHARS:
        raise SecurityError(f"a template built a value longer than {MAX_TEXT_CHARS}")
