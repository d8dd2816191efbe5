// RxDB schemas of two Fieldsync collections: the primary key is `id`, the
// server's `version` is kept as a number, nullable columns allow null.
const nullable = (type) => ({ type: [type, 'null'] });

export const accountSchema = {
  version: 0,
  primaryKey: 'id',
  type: 'object',
  properties: {
    id: { type: 'string', maxLength: 36 },
    name: { type: 'string' },
    territory_id: { type: 'string' },
    owner_id: nullable('string'),
    class: { type: 'string' },
    status: { type: 'string' },
    address: nullable('string'),
    phone: nullable('string'),
    email: nullable('string'),
    lat: nullable('number'),
    lng: nullable('number'),
    version: { type: 'number' },
    updated_at: { type: 'string' },
  },
  required: ['id'],
};

export const noteSchema = {
  version: 0,
  primaryKey: 'id',
  type: 'object',
  properties: {
    id: { type: 'string', maxLength: 36 },
    account_id: { type: 'string' },
    author_id: { type: 'string' },
    body: { type: 'string' },
    conflict_of: nullable('string'),
    version: { type: 'number' },
    updated_at: { type: 'string' },
    // Set on the tombstone that answers a rejected create.
    fieldsync_error: { type: 'object' },
  },
  required: ['id'],
};
