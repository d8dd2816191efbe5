package backoffice

import (
	"context"
	"fmt"
	"net/mail"
	"time"
	"unicode/utf8"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// UserInput is the body of a user create.
type UserInput struct {
	ID           *string     `json:"id"`
	Email        string      `json:"email"`
	Name         string      `json:"name"`
	Role         domain.Role `json:"role"`
	Password     string      `json:"password"`
	TerritoryIDs []string    `json:"territory_ids"`
}

// UserPatch is the body of a user update. territory_ids replaces the user's
// territories (null or [] removes them all): this is how a rep gains or loses a
// territory.
type UserPatch struct {
	Name         Optional[string]      `json:"name,omitzero"`
	Role         Optional[domain.Role] `json:"role,omitzero"`
	Password     Optional[string]      `json:"password,omitzero"`
	TerritoryIDs Optional[[]string]    `json:"territory_ids,omitzero"`
	// Active false deactivates the user: no sign-in, every token and session
	// revoked at once; true lets them sign in again (with new tokens).
	Active Optional[bool] `json:"active,omitzero"`
}

// User is a user as ops sees it: the synced fields plus the email, never the
// password hash.
type User struct {
	ID           string      `json:"id"`
	Email        string      `json:"email"`
	Name         string      `json:"name"`
	Role         domain.Role `json:"role"`
	TerritoryIDs []string    `json:"territory_ids"`
	Active       bool        `json:"active"`
	Version      int64       `json:"version"`
	UpdatedAt    time.Time   `json:"updated_at"`
}

func userOf(r store.UserRecord) User {
	ids := r.TerritoryIDs
	if ids == nil {
		ids = []string{}
	}
	return User{ID: r.ID, Email: r.Email, Name: r.Name, Role: r.Role, TerritoryIDs: ids,
		Active: r.DeactivatedAt == nil, Version: r.Version, UpdatedAt: r.UpdatedAt}
}

const (
	minPassword    = 8
	maxPassword    = 72 // bcrypt ignores (newer versions refuse) anything longer
	maxTerritories = 1000
)

func (a *Admin) CreateUser(ctx context.Context, in UserInput) (User, error) {
	var f fields
	u := store.UserRecord{
		User:  domain.User{ID: f.newID(in.ID), Name: trimmed(in.Name), Role: in.Role},
		Email: store.NormalizeEmail(in.Email),
	}
	f.checkEmail(u.Email)
	f.checkUser(u.User)
	ids := f.refIDs("territory_ids", in.TerritoryIDs)
	hash, err := a.hashPassword(&f, in.Password)
	if err != nil {
		return User{}, err
	}
	u.PasswordHash = hash
	var out User
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		if err := f.territoriesExist(tx, "territory_ids", ids); err != nil {
			return err
		}
		if err := f.err(); err != nil {
			return err
		}
		if err := emailFree(tx, u.Email); err != nil {
			return err
		}
		u.TerritoryIDs = ids
		rec, err := store.CreateUser(tx, u)
		out = userOf(rec)
		return conflictOn(err, "a user with id %s or email %s already exists", u.ID, u.Email)
	})
	return out, err
}

func (a *Admin) UpdateUser(ctx context.Context, id string, p UserPatch) (User, error) {
	if err := checkPathID("user", id); err != nil {
		return User{}, err
	}
	var f fields
	var hash string
	if p.Password.Set && !p.Password.Null {
		var err error
		if hash, err = a.hashPassword(&f, p.Password.Value); err != nil {
			return User{}, err
		}
	}
	apply(&f, "password", p.Password, new(string)) // refuses null
	var ids []string
	if p.TerritoryIDs.Set {
		ids = f.refIDs("territory_ids", p.TerritoryIDs.Value)
	}
	apply(&f, "active", p.Active, new(bool)) // refuses null
	var out User
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		old, err := store.GetUser(tx, id, true)
		if err != nil {
			return err
		}
		u := old
		apply(&f, "name", p.Name, &u.Name)
		u.Name = trimmed(u.Name)
		apply(&f, "role", p.Role, &u.Role)
		f.checkUser(u.User)
		if hash != "" {
			u.PasswordHash = hash
		}
		if p.TerritoryIDs.Set {
			if err := f.territoriesExist(tx, "territory_ids", ids); err != nil {
				return err
			}
			u.TerritoryIDs = ids
		}
		if err := f.err(); err != nil {
			return err
		}
		setActive(&u, p.Active, tx.Now())
		rec, err := store.UpdateUser(tx, old, u)
		if err != nil {
			return err
		}
		out = userOf(rec)
		if endsSessions(old, u, hash != "") {
			return store.RevokeUserTokens(tx, id)
		}
		return nil
	})
	return out, err
}

// endsSessions says whether an update revokes the user's tokens and sessions:
// a new password (whoever knew the old one is out), or a new role (a token
// must not outlive the rights it was issued with). A territory change does not:
// scope is read afresh on every request.
func endsSessions(old, u store.UserRecord, newPassword bool) bool {
	return newPassword || old.Role != u.Role || (old.DeactivatedAt == nil && u.DeactivatedAt != nil)
}

// setActive applies an "active" patch: a deactivation keeps its first time.
func setActive(u *store.UserRecord, active Optional[bool], now time.Time) {
	switch {
	case !active.Set || active.Null:
	case active.Value:
		u.DeactivatedAt = nil
	case u.DeactivatedAt == nil:
		u.DeactivatedAt = &now
	}
}

// GetUser returns one user as ops sees it.
func (a *Admin) GetUser(ctx context.Context, id string) (User, error) {
	if err := checkPathID("user", id); err != nil {
		return User{}, err
	}
	var out User
	err := a.db.ReadTx(ctx, func(tx *store.Tx) error {
		rec, err := store.GetUser(tx, id, false)
		out = userOf(rec)
		return err
	})
	return out, err
}

// hashPassword checks the password and hashes it. It runs before the
// transaction: a slow hash must not hold the write lock.
func (a *Admin) hashPassword(f *fields, pw string) (string, error) {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < minPassword:
		f.add("password", fmt.Sprintf("must be at least %d characters", minPassword))
	case len(pw) > maxPassword:
		f.add("password", fmt.Sprintf("must be at most %d bytes", maxPassword))
	}
	if len(f.errs) > 0 {
		return "", nil // nothing will be written: do not pay for the hash
	}
	h, err := a.hash(pw)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

func (f *fields) checkEmail(email string) {
	addr, err := mail.ParseAddress(email)
	switch {
	case email == "":
		f.add("email", "is required")
	case err != nil || addr.Address != email:
		f.add("email", "must be an email address")
	case len(email) > 254:
		f.add("email", "must be at most 254 characters")
	}
}

func (f *fields) checkUser(u domain.User) {
	switch {
	case u.Name == "":
		f.add("name", "is required")
	case utf8.RuneCountInString(u.Name) > 200:
		f.add("name", "must be at most 200 characters")
	}
	if !u.Role.Valid() {
		f.add("role", "must be one of rep, coordinator, manager, director, ops")
	}
}

// refIDs checks a list of references; invalid entries are field errors and come
// back empty, so indexes in later messages still match the request.
func (f *fields) refIDs(field string, ids []string) []string {
	if len(ids) > maxTerritories {
		f.add(field, fmt.Sprintf("must hold at most %d ids", maxTerritories))
		return nil
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		if f.refID(fmt.Sprintf("%s[%d]", field, i), id) {
			out[i] = id
		}
	}
	return out
}

// territoriesExist adds a field error for each id (left empty when it was
// malformed) that names no territory, with one query for all of them.
func (f *fields) territoriesExist(tx *store.Tx, field string, ids []string) error {
	valid := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" {
			valid = append(valid, id)
		}
	}
	found, err := store.ExistingIDs(tx, domain.TableTerritories, valid)
	if err != nil {
		return fmt.Errorf("check %s: %w", field, err)
	}
	for i, id := range ids {
		if id != "" && !found[id] {
			f.add(fmt.Sprintf("%s[%d]", field, i), "does not exist")
		}
	}
	return nil
}

func emailFree(tx *store.Tx, email string) error {
	_, err := store.GetUserByEmail(tx, email)
	switch {
	case err == nil:
		return domain.Errorf(domain.CodeConflict, "a user with email %s already exists", email)
	case domain.ErrorCode(err) == domain.CodeNotFound:
		return nil
	}
	return fmt.Errorf("check email: %w", err)
}
