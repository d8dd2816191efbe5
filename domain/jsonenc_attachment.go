package domain

func (w *jsonWriter) attachment(r *Attachment) {
	w.str(`{"id":`, r.ID)
	w.str(`,"parent_table":`, r.ParentTable)
	w.str(`,"parent_id":`, r.ParentID)
	w.str(`,"account_id":`, r.AccountID)
	w.str(`,"kind":`, r.Kind)
	w.str(`,"content_type":`, r.ContentType)
	w.int(`,"size":`, r.Size)
	w.str(`,"sha256":`, r.SHA256)
	w.optTime(`,"captured_at":`, r.CapturedAt)
	w.optFloat(`,"captured_lat":`, r.CapturedLat)
	w.optFloat(`,"captured_lng":`, r.CapturedLng)
	w.optStr(`,"caption":`, r.Caption)
	w.str(`,"uploader_id":`, r.UploaderID)
	w.str(`,"status":`, r.Status)
	w.meta(&r.Meta)
}
