"""File extensions, the language they hold, and the project type that language implies.

Only source languages count towards the statistics that decide types: prose
(Markdown), markup and styles (HTML, CSS), data and build scripts are left out,
as linguist and the benchmark labels do.
"""

from __future__ import annotations

# language -> project type it implies (None: counted as source, but implies no type)
LANGUAGE_TYPES: dict[str, str | None] = {
    "Python": "python",
    "JavaScript": "node",
    "TypeScript": "node",
    "CoffeeScript": "node",
    "Vue": "node",
    "Svelte": "node",
    "Astro": "node",
    "Go": "go",
    "Rust": "rust",
    "Java": "java",
    "Kotlin": "kotlin",
    "Scala": "scala",
    "Groovy": "groovy",
    "Clojure": "clojure",
    "C": "c",
    "C++": "cpp",
    "C/C++ header": None,
    "Objective-C": "objc",
    "Objective-C++": "objc",
    "Swift": "swift",
    "C#": "dotnet",
    "F#": "dotnet",
    "Visual Basic": "dotnet",
    "Ruby": "ruby",
    "PHP": "php",
    "Elixir": "elixir",
    "Erlang": "erlang",
    "Gleam": "gleam",
    "Haskell": "haskell",
    "OCaml": "ocaml",
    "Reason": "ocaml",
    "Elm": "elm",
    "PureScript": "purescript",
    "Racket": "racket",
    "Common Lisp": "commonlisp",
    "Emacs Lisp": "elisp",
    "Vim Script": "vim",
    "Dart": "dart",
    "R": "r",
    "Julia": "julia",
    "Zig": "zig",
    "Nim": "nim",
    "Lua": "lua",
    "Perl": "perl",
    "Crystal": "crystal",
    "D": "d",
    "Fortran": "fortran",
    "Ada": "ada",
    "Haxe": "haxe",
    "Odin": "odin",
    "MATLAB": "matlab",
    "Verilog": "verilog",
    "VHDL": "verilog",
    "Solidity": "solidity",
    "PowerShell": "powershell",
    "Shell": "shell",
    "Nix": "nix",
    "HCL": "terraform",
    "Jupyter Notebook": "jupyter",
    "TeX": "latex",
    "GDScript": "godot",
    "Assembly": None,
    "Scheme": None,
    "Starlark": None,
    "AWK": None, "Batchfile": None, "CMake": None, "Makefile": None, "GLSL": None, "HLSL": None,
    "ShaderLab": None, "Jsonnet": None, "Dhall": None, "Puppet": None, "Tcl": None, "Pascal": None,
    "Raku": None, "ReScript": None, "Smalltalk": None, "Wren": None, "Vyper": None, "Move": None, "Cairo": None,
}

EXTENSIONS: dict[str, str] = {
    ".py": "Python", ".pyi": "Python", ".pyw": "Python", ".pyx": "Python", ".pxd": "Python",
    ".js": "JavaScript", ".mjs": "JavaScript", ".cjs": "JavaScript", ".jsx": "JavaScript",
    ".ts": "TypeScript", ".tsx": "TypeScript", ".mts": "TypeScript", ".cts": "TypeScript",
    ".coffee": "CoffeeScript", ".vue": "Vue", ".svelte": "Svelte", ".astro": "Astro",
    ".go": "Go", ".rs": "Rust",
    ".java": "Java", ".kt": "Kotlin", ".kts": "Kotlin", ".scala": "Scala", ".sc": "Scala",
    ".groovy": "Groovy", ".gvy": "Groovy", ".gy": "Groovy", ".gsh": "Groovy",
    ".clj": "Clojure", ".cljs": "Clojure", ".cljc": "Clojure", ".bb": "Clojure",
    ".c": "C", ".h": "C/C++ header",
    ".cc": "C++", ".cpp": "C++", ".cxx": "C++", ".c++": "C++", ".hpp": "C++", ".hh": "C++",
    ".hxx": "C++", ".h++": "C++", ".ipp": "C++", ".tpp": "C++", ".inl": "C++", ".ino": "C++", ".cu": "C++",
    ".cuh": "C++",
    ".m": "Objective-C", ".mm": "Objective-C++", ".swift": "Swift",
    ".cs": "C#", ".csx": "C#", ".fs": "F#", ".fsi": "F#", ".fsx": "F#", ".vb": "Visual Basic",
    ".rb": "Ruby", ".rake": "Ruby", ".gemspec": "Ruby", ".php": "PHP", ".phtml": "PHP",
    ".ex": "Elixir", ".exs": "Elixir", ".erl": "Erlang", ".hrl": "Erlang", ".escript": "Erlang",
    ".gleam": "Gleam",
    ".hs": "Haskell", ".lhs": "Haskell", ".hsc": "Haskell", ".ml": "OCaml", ".mli": "OCaml", ".mll": "OCaml",
    ".mly": "OCaml", ".re": "Reason", ".rei": "Reason",
    ".elm": "Elm", ".purs": "PureScript", ".rkt": "Racket", ".rktl": "Racket", ".rktd": "Racket",
    ".scrbl": "Racket",
    ".lisp": "Common Lisp", ".lsp": "Common Lisp", ".cl": "Common Lisp", ".asd": "Common Lisp",
    ".el": "Emacs Lisp", ".vim": "Vim Script", ".dart": "Dart",
    ".r": "R", ".jl": "Julia", ".zig": "Zig", ".nim": "Nim", ".nims": "Nim", ".lua": "Lua", ".moon": "Lua",
    ".pl": "Perl", ".pm": "Perl", ".t": "Perl", ".psgi": "Perl", ".cr": "Crystal", ".d": "D", ".di": "D",
    ".f": "Fortran", ".for": "Fortran", ".f77": "Fortran", ".f90": "Fortran", ".f95": "Fortran",
    ".f03": "Fortran", ".f08": "Fortran", ".fpp": "Fortran",
    ".adb": "Ada", ".ads": "Ada", ".ada": "Ada", ".hx": "Haxe", ".odin": "Odin",
    ".v": "Verilog", ".sv": "Verilog", ".svh": "Verilog", ".vh": "Verilog",
    ".vhd": "VHDL", ".vhdl": "VHDL", ".sol": "Solidity",
    ".ps1": "PowerShell", ".psm1": "PowerShell", ".psd1": "PowerShell",
    ".sh": "Shell", ".bash": "Shell", ".bats": "Shell", ".zsh": "Shell", ".ksh": "Shell", ".fish": "Shell",
    ".nix": "Nix", ".tf": "HCL", ".tfvars": "HCL", ".hcl": "HCL", ".ipynb": "Jupyter Notebook",
    ".tex": "TeX", ".latex": "TeX", ".ltx": "TeX", ".sty": "TeX", ".cls": "TeX", ".dtx": "TeX",
    ".ins": "TeX", ".gd": "GDScript",
    ".s": "Assembly", ".asm": "Assembly", ".nasm": "Assembly", ".scm": "Scheme", ".ss": "Scheme", ".sld": "Scheme",
    ".bzl": "Starlark", ".star": "Starlark",
    ".awk": "AWK", ".bat": "Batchfile", ".cmd": "Batchfile", ".cmake": "CMake", ".mk": "Makefile", ".mak": "Makefile",
    ".glsl": "GLSL", ".vert": "GLSL", ".frag": "GLSL", ".geom": "GLSL", ".comp": "GLSL", ".hlsl": "HLSL",
    ".fx": "HLSL", ".shader": "ShaderLab", ".jsonnet": "Jsonnet", ".libsonnet": "Jsonnet", ".dhall": "Dhall",
    ".pp": "Puppet", ".tcl": "Tcl", ".pas": "Pascal", ".lpr": "Pascal", ".raku": "Raku", ".rakumod": "Raku",
    ".p6": "Raku", ".pm6": "Raku", ".res": "ReScript", ".resi": "ReScript", ".st": "Smalltalk", ".wren": "Wren",
    ".vy": "Vyper", ".move": "Move", ".cairo": "Cairo",
}

PROSE_EXTENSIONS = frozenset({".md", ".markdown", ".mdx", ".rst", ".adoc", ".asciidoc", ".txt", ".org"})
MARKUP_EXTENSIONS = frozenset({".html", ".htm", ".xhtml", ".css", ".scss", ".sass", ".less"})


def language_of(name: str) -> str | None:
    """The source language of a file name, or None when it is not source code."""
    if name.endswith(".gradle.kts"):
        return None  # Gradle build scripts are not Kotlin sources
    if name.endswith((".min.js", ".min.css")):
        return None  # minified bundles are built, not written
    return EXTENSIONS.get(_extension(name))


def is_prose(name: str) -> bool:
    """Whether a file is prose (Markdown, reStructuredText, AsciiDoc, text)."""
    return _extension(name) in PROSE_EXTENSIONS


def is_markup(name: str) -> bool:
    """Whether a file is web markup or styling (HTML, CSS and its dialects)."""
    return _extension(name) in MARKUP_EXTENSIONS


def _extension(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""
