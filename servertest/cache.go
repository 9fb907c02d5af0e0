package servertest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// keepBuilds is how many builds the cache keeps, the most recently used;
// older ones go when a new one is added, unless a test process still uses
// them. A build is ~20 MB.
const keepBuilds = 3

// keyEnv are the go command's settings that change what it builds. The
// key takes them from `go env`, so that values from go.env files and
// defaults count as well as the environment's.
var keyEnv = []string{
	"GOVERSION", "GOROOT", "GOOS", "GOARCH", "GOAMD64", "GOARM", "GOARM64", "GO386",
	"GOMIPS", "GOMIPS64", "GOPPC64", "GORISCV64", "GOWASM", "GOEXPERIMENT", "GOFIPS140",
	"GOFLAGS", "GOWORK", "CGO_ENABLED", "CC", "CXX", "CGO_CFLAGS", "CGO_CPPFLAGS",
	"CGO_CXXFLAGS", "CGO_FFLAGS", "CGO_LDFLAGS", "PKG_CONFIG", "AR",
}

// cacheDir returns the build cache's directory, or "" for no cache.
func cacheDir() string {
	if !lockSupported {
		return ""
	}
	switch v := os.Getenv(EnvCache); v {
	case "off":
		return ""
	case "":
	default:
		return v
	}
	if dir, err := os.UserCacheDir(); err == nil {
		return filepath.Join(dir, "collab-servertest")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("collab-servertest-%d", os.Getuid()))
}

// cachedBuild returns the cached binary for the sources as they are,
// building it first if the cache has none, and a shared lock on it that
// keeps it from being pruned while this process may run it. It returns
// "" and no error when the sources cannot be cached (their key cannot be
// computed, or they keep changing while being built): the caller builds
// without the cache then.
//
// The cache holds one directory per key, holding the binary and use.lock;
// processes running the binary hold a shared flock on use.lock. Builds
// happen one at a time, under build.lock, into a tmp- directory that is
// renamed to the key once the binary is complete, so a binary at its
// key's path is always whole. A key is computed before the build and
// again after it: a build whose sources changed meanwhile is not
// published under either key.
//
// sourceKey computes the key and compile builds a binary at the path
// given (they are parameters for this package's tests).
func cachedBuild(dir string, sourceKey func() (string, error), compile func(bin string) error) (string, *entryLock, error) {
	key, err := sourceKey()
	if err != nil {
		return "", nil, nil
	}
	if bin, use, ok := useEntry(dir, key); ok {
		return bin, use, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, nil
	}
	building, err := lockExclusive(filepath.Join(dir, "build.lock"))
	if err != nil {
		return "", nil, nil
	}
	defer building.unlock()
	for range 3 {
		// Another process may have built it while this one waited.
		if bin, use, ok := useEntry(dir, key); ok {
			return bin, use, nil
		}
		// What is at the key's path, if anything, is not a whole build
		// (useEntry found no binary or no lock file): out of the way.
		if err := discard(dir, key); err != nil {
			return "", nil, nil
		}
		tmp, err := os.MkdirTemp(dir, "tmp-")
		if err != nil {
			return "", nil, nil
		}
		if err := compile(filepath.Join(tmp, "server")); err != nil {
			_ = os.RemoveAll(tmp)
			return "", nil, err
		}
		again, err := sourceKey()
		if err != nil {
			_ = os.RemoveAll(tmp)
			return "", nil, nil
		}
		if again != key {
			// The sources changed during the build: build what they
			// are now.
			_ = os.RemoveAll(tmp)
			key = again
			continue
		}
		if err := os.WriteFile(filepath.Join(tmp, "use.lock"), nil, 0o644); err != nil {
			_ = os.RemoveAll(tmp)
			return "", nil, nil
		}
		if err := os.Rename(tmp, filepath.Join(dir, key)); err != nil {
			_ = os.RemoveAll(tmp)
			return "", nil, nil
		}
		bin, use, ok := useEntry(dir, key)
		if !ok {
			return "", nil, nil
		}
		prune(dir, key)
		return bin, use, nil
	}
	return "", nil, nil
}

// useEntry takes a shared lock on the cached build of key, if there is
// one, and marks it as the most recently used.
func useEntry(dir, key string) (bin string, use *entryLock, ok bool) {
	entry := filepath.Join(dir, key)
	bin = filepath.Join(entry, "server")
	use, err := lockShared(filepath.Join(entry, "use.lock"))
	if err != nil {
		return "", nil, false
	}
	if fi, err := os.Stat(bin); err != nil || !fi.Mode().IsRegular() {
		use.unlock()
		return "", nil, false
	}
	now := time.Now()
	_ = os.Chtimes(entry, now, now)
	return bin, use, true
}

// prune removes the builds beyond the keepBuilds most recently used that
// no process uses, and what crashed builds left. It runs under
// build.lock, so no tmp- directory is being built into.
func prune(dir, current string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type build struct {
		name string
		used time.Time
	}
	var builds []build
	for _, e := range ents {
		name := e.Name()
		switch {
		case !e.IsDir():
		case strings.HasPrefix(name, "tmp-") || strings.HasPrefix(name, "trash-"):
			_ = os.RemoveAll(filepath.Join(dir, name))
		case name != current && isKey(name):
			if fi, err := e.Info(); err == nil {
				builds = append(builds, build{name, fi.ModTime()})
			}
		}
	}
	sort.Slice(builds, func(i, j int) bool { return builds[i].used.After(builds[j].used) })
	for i, b := range builds {
		if i < keepBuilds-1 { // the current build is the most recent
			continue
		}
		l, ok := tryLockExclusive(filepath.Join(dir, b.name, "use.lock"))
		if !ok {
			continue // in use
		}
		// Out of the key's path first: a process that opened use.lock
		// before this lock finds, once it has its own, that the file is
		// no longer there (lockShared), and builds anew.
		_ = discard(dir, b.name)
		l.unlock()
	}
}

// discard removes the directory of key, if there is one, moving it out of
// the key's path first.
func discard(dir, key string) error {
	entry := filepath.Join(dir, key)
	if _, err := os.Lstat(entry); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	trash, err := os.MkdirTemp(dir, "trash-")
	if err != nil {
		return err
	}
	if err := os.Rename(entry, filepath.Join(trash, key)); err != nil {
		_ = os.RemoveAll(trash)
		return err
	}
	return os.RemoveAll(trash)
}

// isKey reports whether name is a key as sourceKey makes them.
func isKey(name string) bool {
	if len(name) != 2*keyBytes {
		return false
	}
	_, err := hex.DecodeString(name)
	return err == nil
}

// keyBytes is the length of a key, in bytes of its SHA-256 hash.
const keyBytes = 16

// listedPackage is what sourceKey reads of `go list -json`.
type listedPackage struct {
	ImportPath string
	Dir        string
	Standard   bool
	Module     *struct {
		Path, Version, Sum, GoMod string
		Main                      bool
		Replace                   *struct{ Path, Version, Sum string }
	}
	Error *struct{ Err string }
	// The files a build reads, relative to Dir.
	GoFiles, CgoFiles, CFiles, CXXFiles, MFiles, HFiles, FFiles, SFiles,
	SwigFiles, SwigCXXFiles, SysoFiles, EmbedFiles []string
}

// files returns the files a build of p reads.
func (p *listedPackage) files() []string {
	var out []string
	for _, l := range [][]string{p.GoFiles, p.CgoFiles, p.CFiles, p.CXXFiles, p.MFiles, p.HFiles, p.FFiles, p.SFiles,
		p.SwigFiles, p.SwigCXXFiles, p.SysoFiles, p.EmbedFiles} {
		out = append(out, l...)
	}
	return out
}

// sourceKey hashes everything the build of serverPackage with args reads:
// args, the go command's version and settings, the module's directory,
// go.mod and go.sum (and go.work), the content of every file of each
// package of this module it imports (and of any module replaced by a
// directory), and the version of every other module's. The standard
// library is the go command's version and GOROOT; a development version
// of go, whose library may change under one version string, has no key.
func sourceKey(gocmd string, args []string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "servertest build 1\nargs %q\npackage %s\n", args, serverPackage)
	envOut, err := exec.Command(gocmd, append([]string{"env"}, keyEnv...)...).Output()
	if err != nil {
		return "", fmt.Errorf("go env: %w", err)
	}
	env := strings.Split(strings.TrimRight(string(envOut), "\n"), "\n")
	if len(env) != len(keyEnv) {
		return "", fmt.Errorf("go env: %d lines for %d variables", len(env), len(keyEnv))
	}
	for i, name := range keyEnv {
		fmt.Fprintf(h, "env %s=%q\n", name, env[i])
		switch {
		case name == "GOVERSION" && strings.Contains(env[i], "devel"):
			return "", errors.New("a development version of go")
		case name == "GOWORK" && env[i] != "" && env[i] != "off":
			if err := hashFiles(h, env[i], env[i]+".sum"); err != nil {
				return "", err
			}
		}
	}
	fields := "ImportPath,Dir,Standard,Module,Error,GoFiles,CgoFiles,CFiles,CXXFiles,MFiles,HFiles,FFiles,SFiles,SwigFiles,SwigCXXFiles,SysoFiles,EmbedFiles"
	var stderr bytes.Buffer
	list := exec.Command(gocmd, "list", "-deps", "-json="+fields, serverPackage)
	list.Stderr = &stderr
	out, err := list.Output()
	if err != nil {
		return "", fmt.Errorf("go list: %w: %s", err, stderr.Bytes())
	}
	mainMod := ""
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return "", fmt.Errorf("go list: %w", err)
		}
		if p.Error != nil {
			return "", fmt.Errorf("go list: %s: %s", p.ImportPath, p.Error.Err)
		}
		if p.Standard {
			continue
		}
		m := p.Module
		if m != nil && m.Main {
			mainMod = m.GoMod
		}
		if m != nil && !m.Main {
			path, version, sum := m.Path, m.Version, m.Sum
			if r := m.Replace; r != nil {
				path, version, sum = r.Path, r.Version, r.Sum
			}
			if version != "" { // from the module cache, which go verifies
				fmt.Fprintf(h, "package %s module %s@%s %s\n", p.ImportPath, path, version, sum)
				continue
			}
		}
		// This module's, or one replaced by a directory: the files.
		fmt.Fprintf(h, "package %s\n", p.ImportPath)
		for _, name := range p.files() {
			fmt.Fprintf(h, "file %s ", name)
			if err := hashFiles(h, filepath.Join(p.Dir, name)); err != nil {
				return "", err
			}
		}
	}
	if mainMod == "" {
		return "", errors.New("go list: no package of the main module")
	}
	// The clone's directory too: the binary's stack traces name its
	// files, which should be this clone's.
	fmt.Fprintf(h, "module %s\ngo.mod ", filepath.Dir(mainMod))
	if err := hashFiles(h, mainMod); err != nil {
		return "", err
	}
	sum := filepath.Join(filepath.Dir(mainMod), "go.sum")
	if _, err := os.Stat(sum); err == nil {
		fmt.Fprintf(h, "go.sum ")
		if err := hashFiles(h, sum); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:keyBytes]), nil
}

// hashFiles writes the SHA-256 of each file's content to h, one line
// each; a file that does not exist counts as a distinct value.
func hashFiles(h io.Writer, paths ...string) error {
	for _, path := range paths {
		data, err := os.ReadFile(path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			fmt.Fprintf(h, "%s: none\n", path)
		case err != nil:
			return err
		default:
			fmt.Fprintf(h, "%x\n", sha256.Sum256(data))
		}
	}
	return nil
}
