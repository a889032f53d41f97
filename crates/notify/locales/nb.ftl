# Helsebro varsler – norsk bokmål (standardspråk). Hver nøkkel må finnes i nn.ftl og en.ftl også.
#
# Skriv kort og enkelt; mange mottakere er eldre. Aldri diagnose eller helseopplysninger.
# Tjenesteområdet ($sender) nevnes bare når kommunen tillater det; koden fyller det inn.
# SMS: bruk bare tegn fra GSM-alfabetet (æøå går fint, men ikke «», – eller ’), ellers
# blir meldingen dyrere. Setningen om at meldingen ikke kan besvares og brukerstøttens
# telefonnummer legges til av koden.

## Dato og tid, alltid norsk tid (Europe/Oslo)

weekday-1 = mandag
weekday-2 = tirsdag
weekday-3 = onsdag
weekday-4 = torsdag
weekday-5 = fredag
weekday-6 = lørdag
weekday-7 = søndag
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
# tirsdag 24. november kl. 10.30
datetime = { $weekday } { $day }. { $month } kl. { $hour }.{ $minute }

## Felles

# Brukes for $sender når tjenesteområdet kan nevnes.
sender-with-service-area = { $service_area }, { $organisation }
no-reply = Denne meldingen kan ikke besvares.
support-sms = Spørsmål? Ring { $phone }.
support-email = Har du spørsmål, kan du ringe oss på { $phone }.
email-greeting = Hei!
email-signature =
    Vennlig hilsen
    { $organisation }

## SMS

sms-invitation = { $sender }: Du har fått en videotime { $time }. Åpne lenken noen minutter før timen: { $link }
sms-reminder-ten-days = { $sender }: Påminnelse om videotimen din { $time }. Åpne lenken noen minutter før timen: { $link }
sms-reminder-day-before = { $sender }: Husk videotimen din { $time }. Åpne lenken noen minutter før timen: { $link }
sms-self-test = Test gjerne utstyret ditt før timen: { $self_test_link }
sms-changed = { $sender }: Videotimen din er flyttet fra { $previous_time } til { $time }. Åpne lenken noen minutter før timen: { $link }
sms-cancelled = { $sender }: Videotimen din { $time } er avlyst.
sms-task-reminder = { $sender }: Du har en oppgave som venter i Helsebro. Åpne lenken: { $link }
sms-one-time-code = Helsebro: Koden din er { $code }. Den gjelder i { $minutes } minutter. Ikke gi koden til andre.
sms-test = { $sender }: Dette er en testmelding fra Helsebro. Du trenger ikke gjøre noe.
sms-readings-seen = { $sender }: Oppfølgingstjenesten har sett de siste målingene dine. Du trenger ikke gjøre noe.

## E-post (ren tekst)

email-self-test =
    Du kan teste utstyret ditt før timen. Da ser du at kamera, mikrofon og lyd virker:
    { $self_test_link }

email-invitation-subject = Videotime { $time }
email-invitation-body =
    Du har fått en videotime hos { $sender }.

    Tid: { $time }

    Åpne denne lenken noen minutter før timen:
    { $link }

email-reminder-ten-days-subject = Påminnelse: videotime { $time }
email-reminder-ten-days-body =
    Dette er en påminnelse om videotimen din hos { $sender }.

    Tid: { $time }

    Åpne denne lenken noen minutter før timen:
    { $link }

email-reminder-day-before-subject = Husk videotimen din { $time }
email-reminder-day-before-body =
    Husk videotimen din hos { $sender }.

    Tid: { $time }

    Åpne denne lenken noen minutter før timen:
    { $link }

email-changed-subject = Ny tid for videotimen din
email-changed-body =
    Videotimen din hos { $sender } er flyttet.

    Ny tid: { $time }
    Gammel tid: { $previous_time }

    Åpne denne lenken noen minutter før timen:
    { $link }

email-cancelled-subject = Videotimen din er avlyst
email-cancelled-body =
    Videotimen din hos { $sender } er avlyst.

    Tid: { $time }

email-task-reminder-subject = Du har en oppgave i Helsebro
email-task-reminder-body =
    Du har en oppgave fra { $sender } som venter i Helsebro.

    Åpne denne lenken for å se den:
    { $link }

email-one-time-code-subject = Koden din for Helsebro
email-one-time-code-body =
    Koden din er { $code }. Den gjelder i { $minutes } minutter.

    Ikke gi koden til andre.

email-test-subject = Testmelding fra Helsebro
email-test-body =
    Dette er en testmelding fra { $sender }. Den viser at e-post fra Helsebro kommer fram.

    Du trenger ikke gjøre noe.

email-readings-seen-subject = Målingene dine er sett
email-readings-seen-body =
    Oppfølgingstjenesten hos { $sender } har sett de siste målingene dine.

    Du trenger ikke gjøre noe.

## Kalender for ansatte (vedlagt e-post og kalenderabonnement). Aldri pasientens navn eller
## helseopplysninger.

staff-event-summary = Videotime
staff-event-description =
    Logg inn i Helsebro for å se hvem timen gjelder: { $appointment_link }
    Videorommet: { $room_link }
staff-booked-subject = Videotime { $time }
staff-moved-subject = Flyttet: videotime { $time }
staff-cancelled-subject = Avlyst: videotime { $time }
staff-booked-body = Du er vert for en videotime { $time }. Kalenderoppføringen er vedlagt.
staff-moved-body = Videotimen du er vert for, er flyttet til { $time }. Den oppdaterte kalenderoppføringen er vedlagt.
staff-cancelled-body = Videotimen du skulle være vert for { $time }, er avlyst. Vedlegget fjerner den fra kalenderen din.
staff-email-links =
    Avtalen: { $appointment_link }
    Videorommet: { $room_link }

    Meldingen inneholder ikke pasientopplysninger. Logg inn i Helsebro for å se hvem timen gjelder.
