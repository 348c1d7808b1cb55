#!/usr/bin/env bash
# Regenerates the captured test-runner outputs next to this script: `go test -json`, Jest and
# Vitest `--json` reports, and JUnit XML from Maven Surefire, pytest `--junitxml` and jest-junit.
# Each comes from a small project written here with passing, failing, skipped and nested tests.
# The temporary folder's absolute path is replaced by `/repo`, so no machine path is kept;
# everything else is kept byte for byte. Timings are whatever the run took.
#
# Needs: go, node + npm (the npm registry reachable, for jest, vitest and jest-junit), mvn (its
# Surefire plugin from a Maven repository), python3 with pytest (or $PYTHON naming one). Pass the runners to capture as
# arguments (go jest vitest maven pytest); none means all of them. The committed fixtures have
# no Surefire report: where they were captured no Maven repository was reachable.
set -euo pipefail

out="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
runners=("$@")
[ ${#runners[@]} -gt 0 ] || runners=(go jest vitest maven pytest)

# Stdin to stdout with the work folder's path written as /repo.
neutral() { sed -e "s#$work/[a-z]*#/repo#g"; }

capture_go() {
  local repo="$work/go"
  mkdir -p "$repo/calc" "$repo/broken" "$repo/crash" "$repo/notests"
  cd "$repo"
  cat > go.mod <<'EOF'
module example.com/shapes

go 1.19
EOF
  cat > calc/calc.go <<'EOF'
package calc

func Add(a, b int) int { return a + b }

func Sub(a, b int) int { return a + b }
EOF
  cat > calc/calc_test.go <<'EOF'
package calc

import "testing"

func TestAdd(t *testing.T) {
	if Add(2, 3) != 5 {
		t.Fatal("2 + 3 is not 5")
	}
}

func TestSub(t *testing.T) {
	if got := Sub(5, 3); got != 2 {
		t.Errorf("Sub(5, 3) = %d, want 2", got)
	}
}

func TestSkipped(t *testing.T) {
	t.Skip("not on this platform")
}

func TestTable(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b int
		want int
	}{
		{"small numbers", 1, 1, 2},
		{"zero", 0, 0, 0},
		{"negative/odd", -1, -2, -4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Add(tc.a, tc.b); got != tc.want {
				t.Errorf("Add(%d, %d) = %d, want %d", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

func TestNested(t *testing.T) {
	t.Run("outer", func(t *testing.T) {
		t.Run("inner", func(t *testing.T) {})
		t.Run("skipped", func(t *testing.T) { t.Skip("later") })
	})
}
EOF
  cat > broken/broken.go <<'EOF'
package broken

func Twice(x int) int { return x * undefinedFactor }
EOF
  cat > broken/broken_test.go <<'EOF'
package broken

import "testing"

func TestTwice(t *testing.T) {
	if Twice(2) != 4 {
		t.Fail()
	}
}
EOF
  cat > crash/crash.go <<'EOF'
package crash

func Index(xs []int, i int) int { return xs[i] }
EOF
  cat > crash/crash_test.go <<'EOF'
package crash

import "testing"

func TestFirst(t *testing.T) {
	if Index([]int{7}, 0) != 7 {
		t.Fail()
	}
}

func TestPanics(t *testing.T) {
	Index(nil, 3)
}

func TestNeverRuns(t *testing.T) {}
EOF
  cat > notests/notests.go <<'EOF'
package notests

const Answer = 42
EOF
  # -p 1: packages one after another, so the captured order is the same on every machine.
  go test -json -p 1 ./... > "$work/go.stdout" 2> "$work/go.stderr" || true
  neutral < "$work/go.stdout" > "$out/go_test.json"
  neutral < "$work/go.stderr" > "$out/go_test.stderr"
  # The same run twice (-count=2): every test is reported twice.
  go test -json -count=2 ./calc > "$work/go2.stdout" 2>&1 || true
  neutral < "$work/go2.stdout" > "$out/go_test_count2.json"
}

write_js_project() {
  local repo="$1"
  mkdir -p "$repo/src" "$repo/test"
  cat > "$repo/src/math.js" <<'EOF'
function add(a, b) { return a + b; }
function sub(a, b) { return a + b; }
module.exports = { add, sub };
EOF
  cat > "$repo/test/math.test.js" <<'EOF'
const { add, sub } = require("../src/math");

describe("math", () => {
  test("adds", () => { expect(add(2, 3)).toBe(5); });
  test("subtracts", () => { expect(sub(5, 3)).toBe(2); });
  test.skip("divides", () => { expect(1).toBe(1); });
  test.todo("multiplies");
  describe("nested", () => {
    test("adds zero", () => { expect(add(0, 0)).toBe(0); });
  });
});

test("top level", () => { expect(add(1, 1)).toBe(2); });
test("same name", () => { expect(add(1, 1)).toBe(2); });
test("same name", () => { expect(add(1, 1)).toBe(3); });
EOF
  cat > "$repo/test/broken.test.js" <<'EOF'
const { add } = require("../src/missing");
test("never runs", () => { expect(add(1, 1)).toBe(2); });
EOF
}

capture_jest() {
  local repo="$work/jest"
  write_js_project "$repo"
  cd "$repo"
  cat > package.json <<'EOF'
{ "name": "math", "private": true, "scripts": { "test": "jest" } }
EOF
  npm install --silent --no-audit --no-fund jest@29 jest-junit@16 > /dev/null
  node_modules/.bin/jest --json > "$work/jest.stdout" 2> "$work/jest.stderr" || true
  neutral < "$work/jest.stdout" > "$out/jest.json"
  JEST_JUNIT_OUTPUT_DIR=reports node_modules/.bin/jest --ci --reporters=default --reporters=jest-junit \
    > /dev/null 2>&1 || true
  neutral < reports/junit.xml > "$out/jest_junit.xml"
}

capture_vitest() {
  local repo="$work/vitest"
  write_js_project "$repo"
  cd "$repo"
  cat > package.json <<'EOF'
{ "name": "math", "private": true, "scripts": { "test": "vitest run" } }
EOF
  cat > vitest.config.js <<'EOF'
module.exports = { test: { globals: true } };
EOF
  npm install --silent --no-audit --no-fund vitest@3 > /dev/null
  node_modules/.bin/vitest run --reporter=json > "$work/vitest.stdout" 2> "$work/vitest.stderr" || true
  neutral < "$work/vitest.stdout" > "$out/vitest.json"
}

capture_maven() {
  local repo="$work/maven"
  mkdir -p "$repo/src/main/java/shapes" "$repo/src/test/java/shapes"
  cd "$repo"
  cat > pom.xml <<'EOF'
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>example</groupId>
  <artifactId>shapes</artifactId>
  <version>1.0</version>
  <properties>
    <maven.compiler.source>17</maven.compiler.source>
    <maven.compiler.target>17</maven.compiler.target>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <dependencies>
    <dependency>
      <groupId>org.junit.jupiter</groupId>
      <artifactId>junit-jupiter</artifactId>
      <version>5.10.2</version>
      <scope>test</scope>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-surefire-plugin</artifactId>
        <version>3.2.5</version>
      </plugin>
    </plugins>
  </build>
</project>
EOF
  cat > src/main/java/shapes/Calc.java <<'EOF'
package shapes;

public class Calc {
    public static int add(int a, int b) { return a + b; }
    public static int sub(int a, int b) { return a + b; }
}
EOF
  cat > src/test/java/shapes/CalcTest.java <<'EOF'
package shapes;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CalcTest {
    @Test void adds() { assertEquals(5, Calc.add(2, 3)); }
    @Test void subtracts() { assertEquals(2, Calc.sub(5, 3)); }
    @Test void crashes() { throw new IllegalStateException("boom"); }
    @Disabled("later") @Test void divides() { }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void addsZero(int x) { assertEquals(x, Calc.add(x, 0)); }

    @Nested
    class Inner {
        @Test void addsNegatives() { assertEquals(-3, Calc.add(-1, -2)); }
    }
}
EOF
  mvn -q -B test > "$work/mvn.stdout" 2>&1 || true
  shopt -s nullglob
  local reports=(target/surefire-reports/TEST-*.xml)
  shopt -u nullglob
  if [ ${#reports[@]} -eq 0 ]; then
    echo "failed to capture Surefire reports: Maven wrote none (it needs the Surefire plugin and JUnit from a Maven repository); its output:" >&2
    cat "$work/mvn.stdout" >&2
    exit 1
  fi
  for report in "${reports[@]}"; do
    neutral < "$report" > "$out/surefire_$(basename "$report")"
  done
}

capture_pytest() {
  local repo="$work/pytest"
  mkdir -p "$repo/tests"
  cd "$repo"
  cat > tests/test_calc.py <<'EOF'
import pytest


def add(a, b):
    return a + b


def test_adds():
    assert add(2, 3) == 5


def test_subtracts():
    assert add(5, -3) == 3


@pytest.mark.skip(reason="later")
def test_divides():
    pass


@pytest.mark.xfail(reason="known")
def test_known_bug():
    assert add(1, 1) == 3


@pytest.mark.parametrize("x", [1, "a b"])
def test_param(x):
    assert add(x, x) == x + x


class TestGroup:
    def test_inside(self):
        assert True


@pytest.fixture
def broken():
    raise RuntimeError("fixture failed")


def test_uses_broken(broken):
    pass
EOF
  "${PYTHON:-python3}" -m pytest -q -p no:cacheprovider --junitxml=report.xml > /dev/null 2>&1 || true
  neutral < report.xml > "$out/pytest_junit.xml"
}

for runner in "${runners[@]}"; do
  "capture_$runner"
done
