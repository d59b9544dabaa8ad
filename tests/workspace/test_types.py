"""Project types: root markers, shared build systems, path-shaped markers, collections,
language statistics, tooling manifests, manifest contents and layout fallbacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from taskweave.workspace import detect_workspace
from tests.workspace.test_roots import tree


def types_of(base: Path, *paths: str, contents: dict[str, str] | None = None) -> list[str]:
    """Create the empty files (directories end in '/') and detect from `base`."""
    tree(base, *paths)
    for relative, text in (contents or {}).items():
        (base / relative).parent.mkdir(parents=True, exist_ok=True)
        (base / relative).write_text(text)
    (base / ".git").mkdir(parents=True, exist_ok=True)
    return detect_workspace(str(base), environ={}).types


def sources(directory: str, extension: str, count: int) -> list[str]:
    return [f"{directory}/f{index}{extension}" for index in range(count)]


@pytest.mark.parametrize("paths, expected", [
    (["pyproject.toml", "src/a.py"], ["python"]),
    (["go.mod", "main.go", "Makefile"], ["go"]),
    (["Cargo.toml", "Cargo.lock", "src/lib.rs"], ["rust"]),
    (["mix.exs", "lib/a.ex"], ["elixir"]),
    (["gleam.toml", "src/a.gleam"], ["gleam"]),
    (["build.zig", "build.zig.zon", "src/main.zig"], ["zig"]),
    (["App.sln", "App/App.csproj", "App/Program.cs"], ["dotnet"]),
    (["project.godot", "player.gd"], ["godot"]),
    (["deno.json", "mod.ts"], ["deno"]),
    (["package.json", "hardhat.config.ts", "contracts/Token.sol", "scripts/deploy.js"], ["node", "solidity"]),
])
def test_root_entry_points(tmp_path: Path, paths: list[str], expected: list[str]) -> None:
    assert sorted(types_of(tmp_path, *paths)) == sorted(expected)


def test_c_build_systems_name_the_languages_present(tmp_path: Path) -> None:
    assert types_of(tmp_path / "c", "meson.build", *sources("src", ".c", 8), "src/a.h") == ["c"]
    assert types_of(tmp_path / "cpp", "CMakeLists.txt", *sources("src", ".cpp", 8), "src/x.c") == ["cpp"]
    assert types_of(tmp_path / "go", "Makefile", "go.mod", *sources("cmd", ".go", 8)) == ["go"]


def test_jvm_builds_follow_the_jvm_sources(tmp_path: Path) -> None:
    kotlin = types_of(tmp_path / "k", "build.gradle.kts", "settings.gradle.kts", *sources("src/main/kotlin", ".kt", 9))
    assert kotlin == ["kotlin"]
    java = types_of(tmp_path / "j", "build.gradle.kts", *sources("src/main/java", ".java", 40), "src/x.kt")
    assert java == ["java"]
    assert types_of(tmp_path / "empty", "pom.xml") == ["java"]


def test_apple_projects_follow_swift_and_objective_c_sources(tmp_path: Path) -> None:
    objc = types_of(tmp_path / "o", "Lib.podspec", "Package.swift", "Lib.xcodeproj/project.pbxproj",
                    *sources("Lib", ".m", 10), *sources("Lib", ".h", 10), "Tests/a.swift")
    assert objc == ["objc"]
    assert types_of(tmp_path / "s", "Package.swift", *sources("Sources/Lib", ".swift", 5)) == ["swift"]


def test_m_files_without_apple_signals_are_matlab(tmp_path: Path) -> None:
    assert types_of(tmp_path, *sources("toolbox", ".m", 12), "README.md") == ["matlab"]


@pytest.mark.parametrize("paths, expected", [
    (["build.gradle.kts", "settings.gradle.kts", "app/build.gradle.kts", "app/src/main/AndroidManifest.xml",
      *sources("app/src/main/java/x", ".kt", 5)], {"android", "kotlin"}),
    (["Assets/Scripts/a.cs", "ProjectSettings/ProjectVersion.txt", "Packages/manifest.json"], {"unity"}),
    (["meta/main.yml", "tasks/main.yml", "defaults/main.yml"], {"ansible"}),
    (["site.yml", "roles/web/tasks/main.yml"], {"ansible"}),
    (["App.xcodeproj/project.pbxproj", *sources("App", ".swift", 3)], {"swift"}),
    (["_config.yml", "_layouts/default.html", "index.md"], {"jekyll"}),
    (["config.toml", "layouts/index.html", "content/a.md"], {"hugo"}),
])
def test_path_shaped_and_layout_markers(tmp_path: Path, paths: list[str], expected: set[str]) -> None:
    assert set(types_of(tmp_path, *paths)) == expected


def test_an_ambiguous_name_needs_its_companions(tmp_path: Path) -> None:
    assert "jekyll" not in types_of(tmp_path / "a", "_config.yml", "go.mod", "main.go")
    assert "r" not in types_of(tmp_path / "b", "DESCRIPTION", "package.json", "index.js")


def test_flutter_from_platform_folders_or_from_the_pubspec(tmp_path: Path) -> None:
    app = types_of(tmp_path / "app", "pubspec.yaml", "lib/main.dart", "android/", "ios/", "web/")
    assert set(app) == {"dart", "flutter"}
    assert types_of(tmp_path / "pkg", "pubspec.yaml", "lib/a.dart") == ["dart"]
    declared = types_of(tmp_path / "declared", "lib/main.dart",
                        contents={"pubspec.yaml": "name: x\ndependencies:\n  flutter:\n    sdk: flutter\n"})
    assert set(declared) == {"dart", "flutter"}


def test_collections_are_typed_by_what_they_collect(tmp_path: Path) -> None:
    charts = [f"charts/c{index}/{name}" for index in range(4) for name in ("Chart.yaml", "values.yaml")]
    assert types_of(tmp_path / "helm", *charts, "scripts/tool/pyproject.toml", "README.md") == ["helm"]
    polyglot = types_of(tmp_path / "stack", "docker-compose.yml", "backend/pyproject.toml", "backend/app/a.py",
                        "frontend/package.json", "frontend/src/a.ts")
    assert set(polyglot) == {"docker", "python", "node"}


def test_nested_examples_and_fixtures_do_not_type_a_collection(tmp_path: Path) -> None:
    found = types_of(tmp_path, "packages/a/pubspec.yaml", "packages/b/pubspec.yaml",
                     "examples/web/package.json", "test/fixtures/x/Cargo.toml")
    assert found == ["dart"]


def test_a_repository_of_samples_is_typed_by_its_samples(tmp_path: Path) -> None:
    found = types_of(tmp_path, "samples/a/go.mod", "samples/b/go.mod", "samples/c/go.mod", "samples/d/package.json")
    assert found == ["go"]


def test_dominant_language_and_its_thresholds(tmp_path: Path) -> None:
    assert types_of(tmp_path / "lua", *sources("lua/plugin", ".lua", 20), "stylua.toml") == ["lua"]
    assert types_of(tmp_path / "nb", *sources("notebooks", ".ipynb", 6), *sources("src", ".py", 8)) == ["jupyter"]
    mixed = types_of(tmp_path / "mixed", "go.mod", *sources("pkg", ".go", 30), *sources("scripts", ".sh", 12))
    assert mixed == ["go"]


def test_vendored_and_generated_code_is_not_counted(tmp_path: Path) -> None:
    found = types_of(tmp_path, "go.mod", *sources("pkg", ".go", 3), *sources("node_modules/x", ".js", 50),
                     *sources("vendor/y", ".c", 50), *sources("dist", ".js", 50))
    assert found == ["go"]


def test_content_repositories_get_no_language_type(tmp_path: Path) -> None:
    found = types_of(tmp_path, "hugo.toml", "content/a.md", *sources("static/js", ".js", 30))
    assert found == ["hugo"]


def test_a_tooling_manifest_for_another_language_is_not_a_type(tmp_path: Path) -> None:
    found = types_of(tmp_path, "Lib.podspec", "Gemfile", "Gemfile.lock", "fastlane/Fastfile",
                     *sources("Sources", ".swift", 20))
    assert found == ["swift"]
    secondary = detect_workspace(str(tmp_path), environ={}).evidence["secondary"]
    assert "tooling only" in secondary["ruby"]


def test_ruby_used_only_by_tests_is_tooling(tmp_path: Path) -> None:
    found = types_of(tmp_path, "go.mod", "Gemfile", *sources("cmd", ".go", 20), *sources("test", ".rb", 6))
    assert found == ["go"]


def test_a_second_language_with_product_code_stays_a_type(tmp_path: Path) -> None:
    found = types_of(tmp_path, "mix.exs", "package.json", *sources("lib", ".ex", 60), *sources("assets/js", ".js", 12))
    assert found == ["elixir", "node"]


def test_docker_is_a_type_only_as_the_entry_point(tmp_path: Path) -> None:
    assert types_of(tmp_path / "a", "Dockerfile", "requirements.txt", "app.py") == ["python"]
    assert types_of(tmp_path / "b", "Dockerfile", "docker-compose.yml", "README.md") == ["docker"]


def test_layout_fallbacks(tmp_path: Path) -> None:
    assert types_of(tmp_path / "dot", ".zshrc", ".config/nvim/init.lua", ".tmux.conf", "README.md") == ["dotfiles"]
    assert types_of(tmp_path / "stow", "zsh/.zshrc", "git/.gitconfig", "install.sh") == ["dotfiles"]
    assert types_of(tmp_path / "prose", "README.md", "guide/a.md", "guide/b.md") == ["docs"]
    assert types_of(tmp_path / "tool", "Makefile", "README.md", "mytool", "mytool.1") == ["shell"]
    manual = types_of(tmp_path / "manual", "CHANGELOG", "LICENSE", "README.md", "mytool", "docs/man/mytool.1",
                      "docs/usage.md", "docs/setup.md", "docs/examples/hook.sh")
    assert manual == ["shell"]
    assert types_of(tmp_path / "no-manual", "README.md", "mytool", "docs/man/other.1", "docs/a.md") == ["docs"]


def test_shebang_decides_a_lone_script_when_it_can_be_read(tmp_path: Path) -> None:
    found = types_of(tmp_path / "py", "README.md", contents={"runme": "#!/usr/bin/env python3\nprint(1)\n"})
    assert "shell" not in found
    assert types_of(tmp_path / "sh", contents={"runme": "#!/usr/bin/env -S bash -e\necho\n"}) == ["shell"]


def test_workspace_manifests_are_read_when_they_have_content(tmp_path: Path) -> None:
    (tmp_path / "Cargo.toml").write_text('[workspace]\nmembers = ["crates/*"]\n')
    (tmp_path / "package.json").write_text('{"private": true, "workspaces": ["packages/*"]}')
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "lib.rs").touch()
    facts = detect_workspace(str(tmp_path), environ={}).evidence["workspace_manifests"]
    assert facts == {"Cargo.toml": ["crates/*"], "package.json": ["packages/*"]}


def test_malformed_manifests_degrade_to_names(tmp_path: Path) -> None:
    broken = {"Cargo.toml": "[workspace\n", "pubspec.yaml": "\x00\xff"}
    found = types_of(tmp_path, "src/lib.rs", "lib/a.dart", contents=broken)
    assert set(found) == {"rust", "dart"}


def test_output_directory_names_hold_sources_unless_the_tree_says_they_are_output(tmp_path: Path) -> None:
    fpga = types_of(tmp_path / "fpga", *sources("target/board", ".v", 12), *sources("sim", ".py", 3), "README.md")
    assert fpga == ["verilog"]
    ignored = types_of(tmp_path / "ignored", "go.mod", *sources("cmd", ".go", 3), *sources("target/debug", ".rs", 40),
                       contents={".gitignore": "# build output\n/target\nnode_modules/\n"})
    assert ignored == ["go"]
    tagged = types_of(tmp_path / "tagged", "go.mod", *sources("cmd", ".go", 3), "build/CACHEDIR.TAG",
                      *sources("build/x", ".rs", 40))
    assert tagged == ["go"]


def test_nested_projects_found_by_their_layout_type_a_collection(tmp_path: Path) -> None:
    unity = [f"sample{i}/{name}" for i in range(3)
             for name in ("Assets/Scripts/a.cs", "ProjectSettings/ProjectVersion.txt", "Packages/manifest.json")]
    assert types_of(tmp_path / "unity", *unity, "README.md") == ["unity"]
    playbooks = [f"{app}/{name}" for app in ("lamp", "mongodb", "tomcat")
                 for name in ("site.yml", "roles/common/tasks/main.yml", "hosts")]
    assert types_of(tmp_path / "ansible", *playbooks, "README.md") == ["ansible"]


def test_a_flutter_app_in_a_subdirectory_is_one_project(tmp_path: Path) -> None:
    app = ["app/pubspec.yaml", *sources("app/lib", ".dart", 12), "app/android/build.gradle.kts",
           "app/android/settings.gradle.kts", "app/android/app/src/main/AndroidManifest.xml",
           "app/android/app/src/main/kotlin/MainActivity.kt", "app/ios/Runner.xcodeproj/project.pbxproj"]
    assert set(types_of(tmp_path, *app, "README.md")) == {"dart", "flutter"}


def test_weak_manifests_do_not_hide_what_a_repository_collects(tmp_path: Path) -> None:
    charts = [f"{name}/{file}" for name in ("a", "b", "c") for file in ("Chart.yaml", "values.yaml", "tests/t.py")]
    found = types_of(tmp_path / "helm", "requirements.txt", *charts, *sources("helpers", ".py", 4))
    assert "helm" in found
    orka = types_of(tmp_path / "ada", "mkdocs.yml", "requirements.txt", "docs/index.md",
                    *[f"lib{i}/alire.toml" for i in range(3)], *sources("lib0/src", ".adb", 20))
    assert "ada" in orka and "docs" not in orka


def test_a_documentation_site_documents_the_project_beside_it(tmp_path: Path) -> None:
    assert types_of(tmp_path / "lib", "mkdocs.yml", "pyproject.toml", *sources("src/x", ".py", 5)) == ["python"]
    assert set(types_of(tmp_path / "image", "mkdocs.yml", "Dockerfile", "root/etc/run.sh", "docs/a.md")) \
        >= {"docker"}
    assert types_of(tmp_path / "site", "mkdocs.yml", "docs/a.md", "docs/b.md") == ["docs"]


def test_languages_named_by_a_shared_build_file_are_not_tooling(tmp_path: Path) -> None:
    found = types_of(tmp_path, "build.gradle", "settings.gradle", *sources("lib/src/main/kotlin", ".kt", 6),
                     *sources("sample/src/main/java", ".java", 5))
    assert set(found) == {"java", "kotlin"}


def test_an_apple_manifest_packaging_another_language_names_no_apple_language(tmp_path: Path) -> None:
    found = types_of(tmp_path / "cpp", "CMakeLists.txt", "Package.swift", *sources("include", ".hpp", 40),
                     "Tests/a.swift")
    assert found == ["cpp"]
    objc = types_of(tmp_path / "objc", "Lib.podspec", "Package.swift", *sources("Lib", ".m", 20), "Tests/a.swift")
    assert objc == ["objc"]


def test_a_manifest_without_product_code_gives_way_to_the_code_or_the_prose(tmp_path: Path) -> None:
    tool = types_of(tmp_path / "tool", "package.json", "tool.sh", "install.sh", *sources("test", ".js", 3))
    assert tool == ["shell"]
    guide = types_of(tmp_path / "guide", "go.mod", "README.md", *[f"{d}/README.md" for d in ("cmd", "api", "web", "docs")])
    assert guide == ["docs"]


def test_notebooks_keep_the_environment_manifest_beside_them(tmp_path: Path) -> None:
    found = types_of(tmp_path, "Project.toml", "Manifest.toml", *sources("notebooks", ".ipynb", 8))
    assert set(found) == {"julia", "jupyter"}


def test_the_dominant_ecosystem_adds_up_its_languages_and_needs_product_code(tmp_path: Path) -> None:
    hdl = types_of(tmp_path / "hdl", *sources("rtl", ".v", 6), *sources("rtl/sv", ".sv", 6), *sources("sw", ".c", 8))
    assert hdl == ["verilog"]
    site = types_of(tmp_path / "compose", "docker-compose.yml", *sources("documentation/src", ".ts", 12),
                    "nginx/Dockerfile", "php/Dockerfile")
    assert site == ["docker"]


def test_a_collection_of_container_samples_is_docker_whatever_their_languages(tmp_path: Path) -> None:
    samples = [f"s{i}/{name}" for i in range(6) for name in ("compose.yaml", "README.md")]
    samples += [f"s{i}/app/package.json" for i in range(3)] + [f"s{i}/app/index.js" for i in range(3)]
    assert "docker" in types_of(tmp_path, *samples)


def test_a_docs_site_among_the_code_does_not_type_the_repository(tmp_path: Path) -> None:
    found = types_of(tmp_path, "docs/_config.yml", "docs/_layouts/default.html", "docs/index.md",
                     *sources("rtl", ".v", 14), *sources("sim", ".sh", 4))
    assert found == ["verilog"]


@pytest.mark.parametrize("paths", [
    ["zsh/zshrc", "git/gitconfig", "tmux/tmux.conf", "install.sh"],
    ["src/shell/bash_profile", "src/vim/vimrc", "src/git/gitconfig", "setup.sh"],
    ["zsh/zshrc.symlink", "git/gitconfig.symlink", "script/bootstrap"],
    [".zshrc", ".macos", ".gitignore_global", "Brewfile"],
    ["Rakefile", "vimrc", "zsh/.zshrc", *sources("vim/settings", ".vim", 12)],
])
def test_dotfiles_layouts(tmp_path: Path, paths: list[str]) -> None:
    assert "dotfiles" in types_of(tmp_path, *paths)


def test_a_container_image_with_a_bashrc_is_not_a_dotfiles_package(tmp_path: Path) -> None:
    images = [f"{name}/{file}" for name in ("a", "b", "c") for file in ("Dockerfile", ".bashrc")]
    assert types_of(tmp_path, *images) == ["docker"]


def test_other_dockerfile_spellings(tmp_path: Path) -> None:
    assert types_of(tmp_path / "a", "dockerfile-chrome", "dockerfile-firefox", "src/start.sh", "README.md") == ["docker"]
    assert types_of(tmp_path / "b", "Dockerfile-centos", "README.md") == ["docker"]


def test_a_book_at_the_root_is_the_repository(tmp_path: Path) -> None:
    book = types_of(tmp_path / "book", "book.toml", "Cargo.toml", "Cargo.lock", "src/SUMMARY.md", "src/ch01.md",
                    *sources("listings/ch01/src", ".rs", 20), "packages/tools/Cargo.toml", "packages/tools/src/main.rs")
    assert book == ["docs"]
    guide = types_of(tmp_path / "guide", "book.toml", "Cargo.toml", "src/lib.rs", *sources("src", ".rs", 20),
                     "guide/SUMMARY.md")
    assert guide == ["rust"]


def test_latex_templates_and_lone_headers(tmp_path: Path) -> None:
    assert types_of(tmp_path / "tex", *sources("templates", ".latex", 12), "build.sh") == ["latex"]
    assert types_of(tmp_path / "h", "Makefile", *sources("include", ".h", 4)) == ["c"]
    document = types_of(tmp_path / "cv", "Dockerfile", "build.sh", "README.md", "cv.tex", "cv.pdf", "preview.png")
    assert document == ["latex"]
    assert types_of(tmp_path / "image", "Dockerfile", "notes.tex", "README.md") == ["docker"]


def test_a_collection_of_configuration_files_is_documentation(tmp_path: Path) -> None:
    found = types_of(tmp_path, "README.md", "preview.sh", *[f"themes/t{i}.toml" for i in range(60)])
    assert found == ["docs"]


def test_fallbacks_look_at_the_product_code_first(tmp_path: Path) -> None:
    found = types_of(tmp_path, *sources("template", ".latex", 8), *sources("examples/a", ".sh", 20), "README.md")
    assert found == ["latex"]


def test_sources_without_a_type_count_but_never_type_a_fallback(tmp_path: Path) -> None:
    assert types_of(tmp_path / "odin", "Makefile", "build.bat", "hello.odin", "SDL2.dll") == ["odin"]
    assert types_of(tmp_path / "bat", "Makefile", "build.bat", "setup.cmd", "README.md") == []


def test_a_lock_file_with_no_code_beside_it_is_not_a_project(tmp_path: Path) -> None:
    assert types_of(tmp_path, "shard.lock", "shard.yml", "README.md", "CONTRIBUTING.md") == ["docs"]


def test_tooling_projects_type_a_repository_only_when_its_layout_says_nothing(tmp_path: Path) -> None:
    found = types_of(tmp_path / "templates", *[f"workflows/w{i}.yml" for i in range(60)],
                     "script/validate/package.json", "script/validate/index.ts")
    assert found == ["docs"]
    samples = types_of(tmp_path / "samples", "examples/a/go.mod", "examples/b/go.mod", "examples/c/go.mod")
    assert samples == ["go"]


def test_firmware_and_headers_do_not_outweigh_the_hardware_description(tmp_path: Path) -> None:
    found = types_of(tmp_path, "Makefile", *sources("rtl", ".v", 40), *sources("firmware", ".S", 60),
                     *sources("firmware/c", ".c", 20), *sources("tests", ".sh", 16))
    assert "verilog" in found


@pytest.mark.parametrize("extension, expected", [
    (".moon", "lua"), (".hsc", "haskell"), (".mly", "ocaml"), (".phtml", "php"), (".inl", "cpp"),
    (".escript", "erlang"), (".gsh", "groovy"), (".scrbl", "racket"), (".psgi", "perl"), (".pyw", "python"),
])
def test_less_common_source_extensions(tmp_path: Path, extension: str, expected: str) -> None:
    assert types_of(tmp_path, *sources("src", extension, 12)) == [expected]
