package device

import (
	"context"

	"gorm.io/gorm"

	"github.com/fieldsync/fieldsync/domain"
)

// DraftOrder starts an order for an account, optionally taken during a visit.
//
// In each line, set ProductID, Quantity and DiscountPct. DiscountPct is a
// percentage, not a fraction: domain.Percent(1250) is 12.5 % (hundredths of a
// percent; domain.ParsePercent("12.5") gives the same), from 0 to 100.
// UnitPriceCents is OVERWRITTEN: the SDK sets it from the local catalogue for
// display, and the server prices every line again from its catalogue, so a
// price set by the app is never used. The order's total and currency are
// computed the same way (its products' currency).
func (c *Client) DraftOrder(ctx context.Context, accountID string, visitID *string, lines []domain.OrderLine, note string) (domain.Order, error) {
	return create(ctx, c, domain.TableOrders, func(tx *gorm.DB) (map[string]any, error) {
		if err := exists(tx, domain.TableAccounts, "account_id", accountID); err != nil {
			return nil, err
		}
		if visitID != nil {
			if err := exists(tx, domain.TableVisits, "visit_id", *visitID); err != nil {
				return nil, err
			}
		}
		priced, currency, err := priceLocally(tx, lines)
		if err != nil {
			return nil, err
		}
		patch := map[string]any{"account_id": accountID, "status": domain.OrderDraft, "lines": priced, "note": nullable(note)}
		if visitID != nil {
			patch["visit_id"] = *visitID
		}
		if currency != "" {
			patch["currency"] = currency
		}
		return patch, nil
	}, validateOrder)
}

// EditOrder changes a draft's lines (nil: unchanged) and note (nil: unchanged).
// As in DraftOrder, each line's UnitPriceCents is overwritten from the
// catalogue and DiscountPct is in percent (hundredths of a percent).
func (c *Client) EditOrder(ctx context.Context, orderID string, lines []domain.OrderLine, note *string) (domain.Order, error) {
	return update(ctx, c, domain.TableOrders, orderID, func(tx *gorm.DB, cur domain.Order) (map[string]any, error) {
		if !domain.OrderEditable(cur.Status) {
			return nil, domain.Errorf(domain.CodeIllegalTransition, "order is %s; only a draft can be edited", cur.Status)
		}
		patch := map[string]any{}
		if lines != nil {
			priced, _, err := priceLocally(tx, lines)
			if err != nil {
				return nil, err
			}
			patch["lines"] = priced
		}
		if note != nil {
			patch["note"] = nullable(*note)
		}
		return patch, nil
	}, validateOrder)
}

// SubmitOrder hands a draft to the order desk; it needs at least one line of an
// active product.
func (c *Client) SubmitOrder(ctx context.Context, orderID string) (domain.Order, error) {
	return c.moveOrder(ctx, orderID, domain.OrderSubmitted, func(tx *gorm.DB, cur domain.Order) error {
		_, _, err := priceLocally(tx, cur.Lines)
		if err == nil && len(cur.Lines) == 0 {
			err = domain.Invalid(domain.FieldError{Field: "lines", Message: "an order needs at least one line to be submitted"})
		}
		return err
	})
}

// CancelOrder cancels a draft or submitted order.
func (c *Client) CancelOrder(ctx context.Context, orderID string) (domain.Order, error) {
	return c.moveOrder(ctx, orderID, domain.OrderCancelled, func(*gorm.DB, domain.Order) error { return nil })
}

func (c *Client) moveOrder(ctx context.Context, id, to string, ready func(*gorm.DB, domain.Order) error) (domain.Order, error) {
	role := c.Role()
	return update(ctx, c, domain.TableOrders, id, func(tx *gorm.DB, cur domain.Order) (map[string]any, error) {
		if cur.Status == to {
			return nil, domain.Errorf(domain.CodeIllegalTransition, "order is already %s", to)
		}
		if err := domain.CheckOrderTransition(role, cur.Status, to); err != nil {
			return nil, err
		}
		if err := ready(tx, cur); err != nil {
			return nil, err
		}
		return map[string]any{"status": to}, nil
	}, validateOrder)
}

// priceLocally checks lines against the local catalogue (known, active, one
// currency), fills in unit prices, and returns the lines' currency.
func priceLocally(tx *gorm.DB, lines []domain.OrderLine) ([]domain.OrderLine, string, error) {
	if lines == nil {
		lines = []domain.OrderLine{}
	}
	products := map[string]domain.Product{}
	for _, l := range lines {
		p, err := getRow[domain.Product](tx, domain.TableProducts, l.ProductID)
		if err != nil && domain.ErrorCode(err) != domain.CodeNotFound {
			return nil, "", err
		}
		if err == nil {
			products[p.ID] = p
		}
	}
	if len(lines) == 0 {
		return lines, "", nil
	}
	priced, perr := domain.PriceLines(lines, products)
	if perr != nil {
		return nil, "", perr
	}
	currency := products[lines[0].ProductID].Currency
	if cerr := domain.CheckCurrency(domain.Order{Currency: currency, Lines: priced}, products); cerr != nil {
		return nil, "", cerr
	}
	return priced, currency, nil
}

// validateOrder validates the local view of an order. A draft without lines
// has no currency yet (the server fills in its default), which is not an error.
func validateOrder(o domain.Order) *domain.Error {
	if o.Currency == "" {
		o.Currency = "XXX" // ISO 4217 "no currency": lets the other rules run
	}
	return domain.ValidateOrder(o)
}
