package attachments

import (
	"context"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// Visit returns visit id with its attachments for userID, under the scope
// rule of the sync: a visit the user does not see answers exactly like an
// unknown one.
func (s *Service) Visit(ctx context.Context, userID, id string) (store.VisitAttachments, error) {
	if !domain.IsUUID(id) {
		return store.VisitAttachments{}, domain.RowNotFound(domain.TableVisits)
	}
	v, err := s.db.VisitWithAttachments(ctx, id)
	if domain.ErrorCode(err) == domain.CodeNotFound {
		return store.VisitAttachments{}, domain.RowNotFound(domain.TableVisits)
	}
	if err != nil {
		return store.VisitAttachments{}, err
	}
	scope, err := s.scope(ctx, userID)
	if err != nil {
		return store.VisitAttachments{}, err
	}
	if !scope.HasTable(domain.TableVisits) || !scope.Sees(domain.TableVisits, v.Keys) {
		return store.VisitAttachments{}, domain.RowNotFound(domain.TableVisits)
	}
	return v, nil
}

// RecentVisits lists the visits userID sees that have stored attachments,
// the most recently stored first, at most limit.
func (s *Service) RecentVisits(ctx context.Context, userID string, limit int) ([]store.VisitAttachmentSummary, error) {
	scope, err := s.scope(ctx, userID)
	if err != nil {
		return nil, err
	}
	if !scope.HasTable(domain.TableVisits) || !scope.HasTable(domain.TableAttachments) {
		return []store.VisitAttachmentSummary{}, nil
	}
	return s.db.RecentVisitsWithAttachments(ctx, scope.All, scope.Keys, limit)
}
