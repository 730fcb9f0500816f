with tags as ({{ callrail_rows('tags') }})

select
    id as tag_id,
    account_id,
    company_id,
    name as tag_name,
    tag_level,
    status,
    color,
    background_color,
    {{ utc('created_at') }} as created_at
from tags
