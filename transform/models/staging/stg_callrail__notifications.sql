with notifications as ({{ callrail_rows('notifications') }})

select
    id as notification_id,
    account_id,
    company_id,
    tracker_id,
    user_id,
    name as notification_name,
    email,
    alert_type,
    call_enabled,
    sms_enabled,
    send_desktop,
    send_email,
    send_push
from notifications
