with sms_thread_messages as ({{ callrail_rows('sms_thread_messages') }})

select
    id as message_id,
    account_id,
    thread_id as sms_thread_id,
    {{ utc('created_at') }} as created_at,
    direction,
    message_type,
    status,
    content,
    media_urls,
    error
from sms_thread_messages
