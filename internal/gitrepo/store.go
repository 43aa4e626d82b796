package gitrepo

import (
	"fmt"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/memory"
)

// lockedStore makes a snapshot's memory storage safe to read from several
// goroutines (an FS in use by parallel builds) while lazy fetches and
// Commit add objects to it.
type lockedStore struct {
	mu sync.RWMutex
	st *memory.Storage
}

var _ storer.EncodedObjectStorer = (*lockedStore)(nil)

func (l *lockedStore) NewEncodedObject() plumbing.EncodedObject { return l.st.NewEncodedObject() }

func (l *lockedStore) SetEncodedObject(o plumbing.EncodedObject) (plumbing.Hash, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.st.SetEncodedObject(o)
}

func (l *lockedStore) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.st.EncodedObject(t, h)
}

func (l *lockedStore) IterEncodedObjects(t plumbing.ObjectType) (storer.EncodedObjectIter, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.st.IterEncodedObjects(t)
}

func (l *lockedStore) HasEncodedObject(h plumbing.Hash) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.st.HasEncodedObject(h)
}

func (l *lockedStore) EncodedObjectSize(h plumbing.Hash) (int64, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.st.EncodedObjectSize(h)
}

func (l *lockedStore) AddAlternate(string) error {
	return fmt.Errorf("alternates are not supported in memory")
}

// absorb copies every object of from into the store.
func (l *lockedStore) absorb(from *memory.Storage) error {
	iter, err := from.IterEncodedObjects(plumbing.AnyObject)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return iter.ForEach(func(o plumbing.EncodedObject) error {
		_, err := l.st.SetEncodedObject(o)
		return err
	})
}
