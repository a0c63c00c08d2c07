# Set-up and test commands. On a fresh Debian/Ubuntu machine with Python >= 3.10:
#   make demo   installs what it needs, then runs `spectrograms extract` on the built-in example
#   make test   installs what it needs, then runs the C++ tests (CTest) and the Python tests (pytest)
# Other targets: make dev (fast in-tree build for development), make sanitize (ASan+UBSan build of
# the extension and the lifetime tests under it), make bench (cross-library benchmarks).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := libfftw3-dev pkg-config cmake g++ catch2 libbenchmark-dev libsndfile1
PYTEST_ARGS ?=

.PHONY: demo test system-deps venv install install-test cpp-test py-test dev sanitize bench clean

# FFTW's headers, a C++ toolchain, Catch2 and Google Benchmark, from apt when any is missing.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

venv: $(VENV)/bin/python

install: system-deps venv
	$(PIP) install -q ".[audio,plot]"

# torch 2.13.0 first (the CPU build on disk), so that nothing resolves a bare 'torch'.
install-test: system-deps venv
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q jax jaxlib
	$(PIP) install -q ".[test,audio,plot,data,onnx,coreml,dask,ray]"

demo: install
	$(VENV)/bin/spectrograms extract --out out/demo --plot

cpp-test: system-deps
	cmake -S . -B build/cpp-test -DSPECTROGRAMS_BUILD_TESTS=ON -DSPECTROGRAMS_BUILD_PYTHON=OFF >/dev/null
	cmake --build build/cpp-test -j2
	cd build/cpp-test && ctest --output-on-failure

py-test: install-test
	cd tests && ../$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS) .

test: cpp-test py-test

# In-tree build for development: PYTHONPATH=src SPECTROGRAMS_DEV_BUILD=build/devext python ...
# The extension is installed into build/devext by an atomic rename, so processes that have the
# old one loaded keep running while it is rebuilt.
dev: system-deps venv
	$(PIP) install -q pybind11 scikit-build-core numpy
	cmake -S . -B build/dev -G Ninja -DSPECTROGRAMS_BUILD_PYTHON=ON \
	  -DPython_EXECUTABLE=$(abspath $(PY)) -Dpybind11_DIR=$$($(PY) -c "import pybind11; print(pybind11.get_cmake_dir())") >/dev/null
	cmake --build build/dev
	mkdir -p build/devext && so=$$(cd build/dev && ls _core*.so) && \
	  cp build/dev/$$so build/devext/.$$so.tmp && mv -f build/devext/.$$so.tmp build/devext/$$so

# AddressSanitizer + UBSan build of the extension; runs the lifetime/DLPack tests under it.
sanitize: system-deps venv
	$(PIP) install -q pybind11 numpy pytest
	cmake -S . -B build/asan -DSPECTROGRAMS_BUILD_PYTHON=ON -DSPECTROGRAMS_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DPython_EXECUTABLE=$(abspath $(PY)) -Dpybind11_DIR=$$($(PY) -c "import pybind11; print(pybind11.get_cmake_dir())") >/dev/null
	cmake --build build/asan -j2
	rm -rf build/asan-pkg && mkdir -p build/asan-pkg && cp -r src/spectrograms build/asan-pkg/ && \
	  rm -f build/asan-pkg/spectrograms/_core*.so && cp build/asan/_core*.so build/asan-pkg/spectrograms/
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  LD_PRELOAD="$$(g++ -print-file-name=libasan.so) $$(g++ -print-file-name=libubsan.so)" \
	  PYTHONPATH=build/asan-pkg $(PY) -m pytest -q -p no:cacheprovider -m "not slow" tests/test_sanitize_targets.py

bench: install-test
	$(PIP) install -q ".[bench]"
	$(PY) bench/compare.py

clean:
	rm -rf build out dist *.egg-info
