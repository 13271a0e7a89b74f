# Two commands: `make run` and `make test`. Everything else is a helper.
JOBS      ?= $(shell nproc)
RELEASE   := build/release
ASAN      := build/asan
FUZZDIR   := build/fuzz
EXAMPLE   := $(RELEASE)/fixtures/x64/gui_app.exe
UNWIND_EXAMPLE := $(RELEASE)/fixtures/x64/unwind_app.exe
SEH_EXAMPLE    := $(RELEASE)/fixtures/x86/seh_app.exe
EH_EXAMPLE     := $(RELEASE)/fixtures/x64/shapes.exe
CLASS_EXAMPLE  := $(RELEASE)/fixtures/x64/classes.exe
CALLS_EXAMPLE  := $(RELEASE)/fixtures/x64/gui_app.exe

.PHONY: run test setup release asan fuzz bench clean corpus

setup:
	@scripts/setup.sh

release: setup
	@cmake -S . -B $(RELEASE) -G Ninja -DCMAKE_BUILD_TYPE=Release -DSWITCHBOARD_TESTS=ON >/dev/null
	@cmake --build $(RELEASE) -j $(JOBS)

asan: setup
	@cmake -S . -B $(ASAN) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSWITCHBOARD_SANITIZE=ON -DSWITCHBOARD_TESTS=ON >/dev/null
	@cmake --build $(ASAN) -j $(JOBS)

run: release
	@cmake --build $(RELEASE) --target fixtures -j $(JOBS)
	@echo "== switchboard info $(EXAMPLE)"
	@$(RELEASE)/switchboard info $(EXAMPLE)
	@echo
	@echo "== switchboard functions $(EXAMPLE)"
	@$(RELEASE)/switchboard functions $(EXAMPLE)
	@echo
	@echo "== switchboard disasm $(EXAMPLE) '\$$exentry'"
	@$(RELEASE)/switchboard disasm $(EXAMPLE) '$$exentry'
	@echo
	@echo "== switchboard fnent $(EXAMPLE) '\$$exentry'"
	@$(RELEASE)/switchboard fnent $(EXAMPLE) '$$exentry'
	@echo
	@echo "== switchboard frame $(UNWIND_EXAMPLE) hand_homed"
	@$(RELEASE)/switchboard frame $(UNWIND_EXAMPLE) hand_homed
	@echo
	@echo "== switchboard unwind $(UNWIND_EXAMPLE)"
	@$(RELEASE)/switchboard unwind $(UNWIND_EXAMPLE)
	@echo
	@echo "== switchboard seh $(SEH_EXAMPLE)"
	@$(RELEASE)/switchboard seh $(SEH_EXAMPLE)
	@echo
	@echo "== switchboard eh $(EH_EXAMPLE)"
	@$(RELEASE)/switchboard eh $(EH_EXAMPLE)
	@echo
	@echo "== switchboard classes $(CLASS_EXAMPLE)"
	@$(RELEASE)/switchboard classes $(CLASS_EXAMPLE)
	@echo
	@echo "== switchboard class $(CLASS_EXAMPLE) media::BufferedStream"
	@$(RELEASE)/switchboard class $(CLASS_EXAMPLE) media::BufferedStream
	@echo
	@echo "== switchboard vcalls $(CLASS_EXAMPLE)"
	@$(RELEASE)/switchboard vcalls $(CLASS_EXAMPLE)
	@echo
	@echo "== switchboard calls $(CALLS_EXAMPLE) SendMessageW / RegisterClassExW / CreateWindowExW"
	@$(RELEASE)/switchboard calls $(CALLS_EXAMPLE) SendMessageW
	@$(RELEASE)/switchboard calls $(CALLS_EXAMPLE) RegisterClassExW
	@$(RELEASE)/switchboard calls $(CALLS_EXAMPLE) CreateWindowExW
	@echo
	@echo "== switchboard params $(CALLS_EXAMPLE) '\$$exentry'"
	@$(RELEASE)/switchboard params $(CALLS_EXAMPLE) '$$exentry'
	@echo
	@echo "== switchboard messages $(CALLS_EXAMPLE)"
	@$(RELEASE)/switchboard messages $(CALLS_EXAMPLE)
	@echo
	@echo "== switchboard messages --dot $(CALLS_EXAMPLE)"
	@$(RELEASE)/switchboard messages --dot $(CALLS_EXAMPLE)
	@echo
	@echo "== switchboard explain WM_COPYDATA; explain 0x402 --class msctls_progress32"
	@$(RELEASE)/switchboard explain WM_COPYDATA
	@$(RELEASE)/switchboard explain 0x402 --class msctls_progress32
	@echo
	@echo "== switchboard analyze $(CALLS_EXAMPLE) -o $(RELEASE)/gui_app.sbdb; graph and classes from the database"
	@$(RELEASE)/switchboard analyze -q $(CALLS_EXAMPLE) -o $(RELEASE)/gui_app.sbdb
	@$(RELEASE)/switchboard graph $(RELEASE)/gui_app.sbdb --kind message
	@$(RELEASE)/switchboard graph $(RELEASE)/gui_app.sbdb --to MainWndProc
	@echo
	@echo "== switchboard export $(RELEASE)/gui_app.sbdb --to r2 (load with r2 -i gui_app.r2 gui_app.exe)"
	@$(RELEASE)/switchboard export $(RELEASE)/gui_app.sbdb --to r2 -o $(RELEASE)/gui_app.r2
	@echo
	@echo "== switchboard export $(RELEASE)/gui_app.sbdb --to ida (File > Script file in IDA Pro 9)"
	@$(RELEASE)/switchboard export $(RELEASE)/gui_app.sbdb --to ida -o $(RELEASE)/gui_app.ida.py
	@echo
	@echo "== switchboard report $(RELEASE)/gui_app.sbdb (open the page in a browser)"
	@$(RELEASE)/switchboard report $(RELEASE)/gui_app.sbdb -o $(RELEASE)/gui_app.html

# Every test, built with AddressSanitizer + UndefinedBehaviorSanitizer.
test: asan
	@cmake --build $(ASAN) --target fixtures -j $(JOBS)
	@cd $(ASAN) && ctest --output-on-failure -j $(JOBS)

fuzz: setup
	@CC=clang-16 CXX=clang++-16 cmake -S . -B $(FUZZDIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSWITCHBOARD_FUZZ=ON >/dev/null
	@cmake --build $(FUZZDIR) -j $(JOBS) --target fuzz_pe fuzz_projectdb fuzz_minidump fuzz_ndr
	@echo "built $(FUZZDIR)/fuzz_pe, fuzz_projectdb, fuzz_minidump and fuzz_ndr; run: $(FUZZDIR)/fuzz_pe -max_total_time=60 CORPUS_DIR"

bench: release
	@bench/functions.sh $(RELEASE)/switchboard
	@bench/classes.sh $(RELEASE)/switchboard
	@bench/values.sh $(RELEASE)/bench/sb_value_bench
	@bench/messages.sh $(RELEASE)/switchboard
	@bench/analyze.sh $(RELEASE)

clean:
	rm -rf build
