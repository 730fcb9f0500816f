with users as ({{ callrail_rows('users', 'account_id, id') }})

select
    id as user_id,
    account_id,
    email,
    first_name,
    last_name,
    name as user_name,
    role,
    accepted,
    {{ utc('created_at') }} as created_at,
    to_jsonb(companies) as companies
from users
