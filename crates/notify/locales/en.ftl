# Helsebro notifications – English. Every key must also exist in nb.ftl and nn.ftl.
#
# Write short, plain sentences; many recipients are elderly. Never a diagnosis or health
# information. The service area ($sender) is named only when the municipality allows it; the
# code fills it in. SMS: use only characters of the GSM alphabet (no curly quotes or dashes),
# or the message costs more. The code adds the cannot-be-replied-to sentence and the support
# phone number.

## Date and time, always Norwegian time (Europe/Oslo)

weekday-1 = Monday
weekday-2 = Tuesday
weekday-3 = Wednesday
weekday-4 = Thursday
weekday-5 = Friday
weekday-6 = Saturday
weekday-7 = Sunday
month-1 = January
month-2 = February
month-3 = March
month-4 = April
month-5 = May
month-6 = June
month-7 = July
month-8 = August
month-9 = September
month-10 = October
month-11 = November
month-12 = December
# Tuesday 24 November at 10:30
datetime = { $weekday } { $day } { $month } at { $hour }:{ $minute }

## Common

# Used for $sender when the service area may be named.
sender-with-service-area = { $service_area }, { $organisation }
no-reply = This message cannot be replied to.
support-sms = Questions? Call { $phone }.
support-email = If you have questions, you can call us on { $phone }.
email-greeting = Hello,
email-signature =
    Kind regards
    { $organisation }

## SMS

sms-invitation = { $sender }: You have a video appointment on { $time }. Open the link a few minutes before: { $link }
sms-reminder-ten-days = { $sender }: A reminder of your video appointment on { $time }. Open the link a few minutes before: { $link }
sms-reminder-day-before = { $sender }: Remember your video appointment on { $time }. Open the link a few minutes before: { $link }
sms-self-test = You can test your equipment before the appointment: { $self_test_link }
sms-changed = { $sender }: Your video appointment has been moved from { $previous_time } to { $time }. Open the link a few minutes before: { $link }
sms-cancelled = { $sender }: Your video appointment on { $time } has been cancelled.
sms-task-reminder = { $sender }: You have a task waiting in Helsebro. Open the link: { $link }
sms-one-time-code = Helsebro: Your code is { $code }. It is valid for { $minutes } minutes. Do not give the code to anyone.
sms-test = { $sender }: This is a test message from Helsebro. You do not need to do anything.
sms-readings-seen = { $sender }: The follow-up service has seen your latest readings. You do not need to do anything.

## E-mail (plain text)

email-self-test =
    You can test your equipment before the appointment, to check that your camera, microphone and sound work:
    { $self_test_link }

email-invitation-subject = Video appointment on { $time }
email-invitation-body =
    You have a video appointment with { $sender }.

    Time: { $time }

    Open this link a few minutes before the appointment:
    { $link }

email-reminder-ten-days-subject = Reminder: video appointment on { $time }
email-reminder-ten-days-body =
    This is a reminder of your video appointment with { $sender }.

    Time: { $time }

    Open this link a few minutes before the appointment:
    { $link }

email-reminder-day-before-subject = Remember your video appointment on { $time }
email-reminder-day-before-body =
    Remember your video appointment with { $sender }.

    Time: { $time }

    Open this link a few minutes before the appointment:
    { $link }

email-changed-subject = New time for your video appointment
email-changed-body =
    Your video appointment with { $sender } has been moved.

    New time: { $time }
    Old time: { $previous_time }

    Open this link a few minutes before the appointment:
    { $link }

email-cancelled-subject = Your video appointment has been cancelled
email-cancelled-body =
    Your video appointment with { $sender } has been cancelled.

    Time: { $time }

email-task-reminder-subject = You have a task in Helsebro
email-task-reminder-body =
    You have a task from { $sender } waiting in Helsebro.

    Open this link to see it:
    { $link }

email-one-time-code-subject = Your code for Helsebro
email-one-time-code-body =
    Your code is { $code }. It is valid for { $minutes } minutes.

    Do not give the code to anyone.

email-test-subject = Test message from Helsebro
email-test-body =
    This is a test message from { $sender }. It shows that e-mail from Helsebro gets through.

    You do not need to do anything.

email-readings-seen-subject = Your readings have been seen
email-readings-seen-body =
    The follow-up service at { $sender } has seen your latest readings.

    You do not need to do anything.

## Staff calendars (e-mail attachment and calendar subscription). Never the patient's name or
## health information.

staff-event-summary = Video appointment
staff-event-description =
    Log in to Helsebro to see who the appointment is with: { $appointment_link }
    Video room: { $room_link }
staff-booked-subject = Video appointment { $time }
staff-moved-subject = Moved: video appointment { $time }
staff-cancelled-subject = Cancelled: video appointment { $time }
staff-booked-body = You host a video appointment { $time }. The calendar entry is attached.
staff-moved-body = The video appointment you host has moved to { $time }. The updated calendar entry is attached.
staff-cancelled-body = The video appointment you were to host { $time } is cancelled. The attachment removes it from your calendar.
staff-email-links =
    Appointment: { $appointment_link }
    Video room: { $room_link }

    This message contains no patient information. Log in to Helsebro to see who the appointment is with.
