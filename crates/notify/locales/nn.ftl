# Helsebro varsel – nynorsk. Kvar nøkkel må finnast i nb.ftl og en.ftl òg.
#
# Skriv kort og enkelt; mange mottakarar er eldre. Aldri diagnose eller helseopplysningar.
# Tenesteområdet ($sender) blir berre nemnt når kommunen tillèt det; koden fyller det inn.
# SMS: bruk berre teikn frå GSM-alfabetet (æøå går fint, men ikkje «», – eller ’), elles
# blir meldinga dyrare. Setninga om at meldinga ikkje kan svarast på og telefonnummeret
# til brukarstøtta blir lagde til av koden.

## Dato og tid, alltid norsk tid (Europe/Oslo)

weekday-1 = måndag
weekday-2 = tysdag
weekday-3 = onsdag
weekday-4 = torsdag
weekday-5 = fredag
weekday-6 = laurdag
weekday-7 = sundag
month-1 = januar
month-2 = februar
month-3 = mars
month-4 = april
month-5 = mai
month-6 = juni
month-7 = juli
month-8 = august
month-9 = september
month-10 = oktober
month-11 = november
month-12 = desember
# tysdag 24. november kl. 10.30
datetime = { $weekday } { $day }. { $month } kl. { $hour }.{ $minute }

## Felles

# Blir brukt for $sender når tenesteområdet kan nemnast.
sender-with-service-area = { $service_area }, { $organisation }
no-reply = Denne meldinga kan ikkje svarast på.
support-sms = Spørsmål? Ring { $phone }.
support-email = Har du spørsmål, kan du ringje oss på { $phone }.
email-greeting = Hei!
email-signature =
    Venleg helsing
    { $organisation }

## SMS

sms-invitation = { $sender }: Du har fått ein videotime { $time }. Opne lenkja nokre minutt før timen: { $link }
sms-reminder-ten-days = { $sender }: Påminning om videotimen din { $time }. Opne lenkja nokre minutt før timen: { $link }
sms-reminder-day-before = { $sender }: Hugs videotimen din { $time }. Opne lenkja nokre minutt før timen: { $link }
sms-self-test = Test gjerne utstyret ditt før timen: { $self_test_link }
sms-changed = { $sender }: Videotimen din er flytt frå { $previous_time } til { $time }. Opne lenkja nokre minutt før timen: { $link }
sms-cancelled = { $sender }: Videotimen din { $time } er avlyst.
sms-task-reminder = { $sender }: Du har ei oppgåve som ventar i Helsebro. Opne lenkja: { $link }
sms-one-time-code = Helsebro: Koden din er { $code }. Koden gjeld i { $minutes } minutt. Ikkje gi koden til andre.
sms-test = { $sender }: Dette er ei testmelding frå Helsebro. Du treng ikkje gjere noko.
sms-readings-seen = { $sender }: Oppfølgingstenesta har sett dei siste målingane dine. Du treng ikkje gjere noko.

## E-post (rein tekst)

email-self-test =
    Du kan teste utstyret ditt før timen. Då ser du at kamera, mikrofon og lyd verkar:
    { $self_test_link }

email-invitation-subject = Videotime { $time }
email-invitation-body =
    Du har fått ein videotime hos { $sender }.

    Tid: { $time }

    Opne denne lenkja nokre minutt før timen:
    { $link }

email-reminder-ten-days-subject = Påminning: videotime { $time }
email-reminder-ten-days-body =
    Dette er ei påminning om videotimen din hos { $sender }.

    Tid: { $time }

    Opne denne lenkja nokre minutt før timen:
    { $link }

email-reminder-day-before-subject = Hugs videotimen din { $time }
email-reminder-day-before-body =
    Hugs videotimen din hos { $sender }.

    Tid: { $time }

    Opne denne lenkja nokre minutt før timen:
    { $link }

email-changed-subject = Ny tid for videotimen din
email-changed-body =
    Videotimen din hos { $sender } er flytt.

    Ny tid: { $time }
    Gammal tid: { $previous_time }

    Opne denne lenkja nokre minutt før timen:
    { $link }

email-cancelled-subject = Videotimen din er avlyst
email-cancelled-body =
    Videotimen din hos { $sender } er avlyst.

    Tid: { $time }

email-task-reminder-subject = Du har ei oppgåve i Helsebro
email-task-reminder-body =
    Du har ei oppgåve frå { $sender } som ventar i Helsebro.

    Opne denne lenkja for å sjå ho:
    { $link }

email-one-time-code-subject = Koden din for Helsebro
email-one-time-code-body =
    Koden din er { $code }. Koden gjeld i { $minutes } minutt.

    Ikkje gi koden til andre.

email-test-subject = Testmelding frå Helsebro
email-test-body =
    Dette er ei testmelding frå { $sender }. Ho viser at e-post frå Helsebro kjem fram.

    Du treng ikkje gjere noko.

email-readings-seen-subject = Målingane dine er sette
email-readings-seen-body =
    Oppfølgingstenesta hos { $sender } har sett dei siste målingane dine.

    Du treng ikkje gjere noko.

## Kalender for tilsette (vedlagd e-post og kalenderabonnement). Aldri namnet til pasienten
## eller helseopplysningar.

staff-event-summary = Videotime
staff-event-description =
    Logg inn i Helsebro for å sjå kven timen gjeld: { $appointment_link }
    Videorommet: { $room_link }
staff-booked-subject = Videotime { $time }
staff-moved-subject = Flytta: videotime { $time }
staff-cancelled-subject = Avlyst: videotime { $time }
staff-booked-body = Du er vert for ein videotime { $time }. Kalenderoppføringa er vedlagd.
staff-moved-body = Videotimen du er vert for, er flytta til { $time }. Den oppdaterte kalenderoppføringa er vedlagd.
staff-cancelled-body = Videotimen du skulle vere vert for { $time }, er avlyst. Vedlegget fjernar han frå kalenderen din.
staff-email-links =
    Avtalen: { $appointment_link }
    Videorommet: { $room_link }

    Meldinga inneheld ikkje pasientopplysningar. Logg inn i Helsebro for å sjå kven timen gjeld.
