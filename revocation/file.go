package revocation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/collabedit/collab/auth"
)

// File keeps revocations in a JSON file, rewritten atomically (temporary
// file, fsync, rename) on each Put with the expired ones left out.
type File struct {
	Path string
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu sync.Mutex
}

// Put adds r to the file.
func (f *File) Put(_ context.Context, r auth.Revocation) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	list, err := f.read()
	if err != nil {
		return err
	}
	list = append(list, r)
	return f.write(list)
}

// List returns the revocations still in force.
func (f *File) List(context.Context) ([]auth.Revocation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.read()
}

func (f *File) read() ([]auth.Revocation, error) {
	data, err := os.ReadFile(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read revocations: %w", err)
	}
	var all []auth.Revocation
	if err := json.Unmarshal(data, &all); err != nil {
		return nil, fmt.Errorf("read revocations %s: %w", f.Path, err)
	}
	now := f.now()
	live := all[:0]
	for _, r := range all {
		if now.Before(r.Until) {
			live = append(live, r)
		}
	}
	return live, nil
}

func (f *File) write(list []auth.Revocation) error {
	data, err := json.MarshalIndent(list, "", " ")
	if err != nil {
		return fmt.Errorf("write revocations: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.Path), ".revocations-*")
	if err != nil {
		return fmt.Errorf("write revocations: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(data); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), f.Path)
	}
	if err != nil {
		return fmt.Errorf("write revocations: %w", err)
	}
	return nil
}

func (f *File) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}
