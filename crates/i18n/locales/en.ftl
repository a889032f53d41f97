# Helsebro – English. Every key must also exist in nb.ftl (the default language) and nn.ftl.

skip-to-content = Skip to main content
language-switch = Choose language
nav-label = Main menu
nav-worklist = Worklist
nav-new-patient = Register patient
nav-staff = Staff
nav-units = Service areas
nav-settings = Settings
nav-audit = Access log
logout = Log out
save = Save
yes = Yes
no = No

footer-support-heading = Need help?
footer-support-text = Call support on
footer-support-hours = Opening hours:

role-administrator = Administrator
role-service-owner = Service owner
role-clinician = Clinician
role-follow-up-nurse = Follow-up nurse
role-superuser = Superuser
role-support = Support
role-data-protection-officer = Data protection officer

login-title = Log in
login-intro = For staff in health and care services. Log in with your username and password.
login-username = Username
login-password = Password
login-submit = Log in
login-failed = Wrong username or password. Try again, or call support.
login-patient-hint = Are you a patient or a relative? Use the link you got by text message or email. You do not need to log in here.

totp-title = One-time code
totp-intro = Enter the six-digit code from the authenticator app on your phone.
totp-code = Code (6 digits)
totp-code-hint = The code changes every 30 seconds.
totp-submit = Confirm
totp-failed = The code is wrong or has already been used. Wait for the next code and try again.

enrol-title = Set up two-factor login
enrol-intro = Your role gives access to health information. So you must use a one-time code as well as your password.
enrol-step-app = Install an authenticator app on your phone (for example the one your municipality recommends).
enrol-step-scan = Scan the QR code with the app.
enrol-qr-caption = QR code for the authenticator app
enrol-manual = Cannot scan it? Enter this key in the app:
enrol-step-code = Enter the code the app shows.
enrol-submit = Finish setting up

home-title = Worklist
home-greeting = Hello, { $name }
home-your-roles = Your roles:
home-shortcuts = Shortcuts
worklist-title = My patients
worklist-caption = Patients whose care team you are in
worklist-empty = You are not in any patient's care team yet.

find-title = Find patient
find-intro = Search by national identity number. You can only see patients whose care team you are in.
find-submit = Search

patient-title = Patient
patient-name = Name
patient-birth-date = Date of birth
patient-national-id = National identity number
patient-phone = Phone
patient-email = Email
patient-language = Language
patient-emergency-banner = You are viewing this patient with emergency access. This access is logged and will be reviewed by the data protection officer.
patient-new-title = Register patient
patient-new-intro = You will automatically be added to the patient's care team.
patient-new-submit = Register

team-role-responsible = Responsible
team-role-following-up = Following up
team-role-advising = Advising
team-role-referring = Referring
care-team-title = Care team
care-team-add = Add to the team
care-team-role = Role in the team
care-team-add-submit = Add
contact-title = Contact details

emergency-title = Not in your care team
emergency-intro = The patient exists, but you are not in their care team. If you need access in an urgent situation, you can ask for emergency access. It lasts a few hours, is logged and is reviewed by the data protection officer.
emergency-reason = Why do you need access?
emergency-reason-hint = Write a short reason (at least 10 characters). Do not write any health information.
emergency-submit = Ask for emergency access

staff-title = Staff
staff-caption = All staff with access to Helsebro
staff-username = Username
staff-username-hint = Lower-case letters a–z, numbers, full stop, hyphen or underscore.
staff-name = Name
staff-email = Email
staff-roles = Roles
staff-totp = Two-factor
staff-status = Status
staff-active = Active
staff-inactive = Deactivated
staff-unit = Service area
staff-initial-password = First password
staff-password-hint = At least 12 characters. Give it to the person in a safe way.
staff-new-title = New staff member
staff-change = Change
staff-change-who = Change { $name }
staff-create = Create

units-title = Service areas
units-intro = The service areas in your organisation, for example home care or a nursing home.
units-caption = Service areas
units-new-title = New service area
units-create = Create
unit-name = Name
unit-kind = Type
unit-kind-home-care = Home care
unit-kind-nursing-home = Nursing home
unit-kind-hospital = Hospital
unit-kind-general-practice = GP practice
unit-kind-follow-up-centre = Follow-up centre
unit-kind-other = Other

settings-title = Settings
settings-intro = Support contact details are shown at the bottom of every page, also for patients. Changes apply straight away.
settings-org-name = Name of the organisation
settings-support-phone = Support phone number
settings-support-email = Support email
settings-support-hours = Support opening hours
settings-totp-roles = Roles that must use two-factor login

audit-title = Access log
audit-intro = All views and changes of patient information, and all logins, are logged. The log is chained with SHA-256, so any later changes can be detected.
audit-chain-ok = The log is intact: { $count } entries have been checked.
audit-chain-broken = The log is NOT intact:
audit-review-title = Emergency access to review
audit-review-caption = Emergency access not reviewed yet
audit-review-action = Action
audit-mark-reviewed = Mark as reviewed
audit-search-title = Search the log
audit-who = Who
audit-patient = Patient
audit-patient-id = Patient ID
audit-action = Event
audit-any-action = All events
audit-from = From date
audit-to = To date
audit-flagged-only = Flagged only
audit-search = Search
audit-results = { $count } results (newest first)
audit-when = When
audit-outcome = Outcome
audit-from-where = Source address
audit-detail = Details
audit-reason = Reason

done-saved = Your changes have been saved.
done-created = Created.
done-reviewed = Marked as reviewed.
done-registered = The patient has been registered, and you have been added to the care team.
done-team = The care team has been updated.

error-not-found = Page not found
error-forbidden = No access
error-unauthenticated = You are not logged in
error-rate-limited = Too many attempts
error-invalid = Something needs to be corrected
error-conflict = Already exists
error-internal = Something went wrong
error-not-found-text = The page or item you were looking for does not exist, or the link is wrong.
error-forbidden-text = You do not have access to this. If the page has been open for a long time, reload it and try again.
error-unauthenticated-text = You need to log in to see this.
error-rate-limited-text = There have been too many attempts. Wait a little and try again.
error-invalid-text = Something in the form needs correcting. Go back and look at the fields below.
error-conflict-text = This already exists, or cannot be changed like that.
error-internal-text = Something went wrong on our side. Try again in a little while.
error-what-now = If it still does not work, call support (the number is at the bottom of the page).
error-back-home = Go to the home page
