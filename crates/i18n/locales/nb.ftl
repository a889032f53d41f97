# Helsebro – norsk bokmål (standardspråk). Hver nøkkel må finnes i nn.ftl og en.ftl også.

skip-to-content = Hopp til hovedinnholdet
language-switch = Velg språk
nav-label = Hovedmeny
nav-worklist = Arbeidsliste
nav-new-patient = Registrer pasient
nav-staff = Ansatte
nav-units = Tjenesteområder
nav-settings = Innstillinger
nav-audit = Tilgangslogg
logout = Logg ut
save = Lagre
yes = Ja
no = Nei

footer-support-heading = Trenger du hjelp?
footer-support-text = Ring brukerstøtte på
footer-support-hours = Åpningstid:

role-administrator = Administrator
role-service-owner = Tjenesteeier
role-clinician = Behandler
role-follow-up-nurse = Oppfølgingssykepleier
role-superuser = Superbruker
role-support = Brukerstøtte
role-data-protection-officer = Personvernombud

login-title = Logg inn
login-intro = For ansatte i helse- og omsorgstjenesten. Logg inn med brukernavn og passord.
login-username = Brukernavn
login-password = Passord
login-submit = Logg inn
login-failed = Feil brukernavn eller passord. Prøv igjen, eller ring brukerstøtte.
login-patient-hint = Er du pasient eller pårørende? Bruk lenken du har fått på SMS eller e-post. Du trenger ikke logge inn her.

totp-title = Engangskode
totp-intro = Skriv inn den sekssifrede koden fra autentiseringsappen på telefonen din.
totp-code = Kode (6 siffer)
totp-code-hint = Koden skifter hvert 30. sekund.
totp-submit = Bekreft
totp-failed = Koden er feil eller allerede brukt. Vent på neste kode og prøv igjen.

enrol-title = Sett opp tofaktorinnlogging
enrol-intro = Rollen din gir tilgang til helseopplysninger. Derfor må du bruke en engangskode i tillegg til passordet.
enrol-step-app = Installer en autentiseringsapp på telefonen (for eksempel den kommunen anbefaler).
enrol-step-scan = Skann QR-koden med appen.
enrol-qr-caption = QR-kode for autentiseringsappen
enrol-manual = Kan du ikke skanne? Skriv inn denne nøkkelen i appen:
enrol-step-code = Skriv inn koden appen viser.
enrol-submit = Fullfør oppsettet

home-title = Arbeidsliste
home-greeting = Hei, { $name }
home-your-roles = Dine roller:
home-shortcuts = Snarveier
worklist-title = Mine pasienter
worklist-caption = Pasienter du er i behandlingsteamet til
worklist-empty = Du er ikke i behandlingsteamet til noen pasienter ennå.

find-title = Finn pasient
find-intro = Søk med fødselsnummer. Du får bare se pasienter du er i behandlingsteamet til.
find-submit = Søk

patient-title = Pasient
patient-name = Navn
patient-birth-date = Fødselsdato
patient-national-id = Fødselsnummer
patient-phone = Telefon
patient-email = E-post
patient-language = Språk
patient-emergency-banner = Du ser denne pasienten med nødtilgang. Tilgangen er logget og blir gjennomgått av personvernombudet.
patient-new-title = Registrer pasient
patient-new-intro = Du blir selv lagt til i pasientens behandlingsteam.
patient-new-submit = Registrer

team-role-responsible = Ansvarlig
team-role-following-up = Følger opp
team-role-advising = Rådgiver
team-role-referring = Henviser
care-team-title = Behandlingsteam
care-team-add = Legg til i teamet
care-team-role = Rolle i teamet
care-team-add-submit = Legg til
contact-title = Kontaktopplysninger

emergency-title = Ikke i ditt behandlingsteam
emergency-intro = Pasienten finnes, men du er ikke i behandlingsteamet. Trenger du tilgang i en akutt situasjon, kan du be om nødtilgang. Den varer i noen timer, blir logget og gjennomgått av personvernombudet.
emergency-reason = Hvorfor trenger du tilgang?
emergency-reason-hint = Skriv en kort begrunnelse (minst 10 tegn). Ikke skriv helseopplysninger.
emergency-submit = Be om nødtilgang

staff-title = Ansatte
staff-caption = Alle ansatte med tilgang til Helsebro
staff-username = Brukernavn
staff-username-hint = Små bokstaver a–z, tall, punktum, bindestrek eller understrek.
staff-name = Navn
staff-email = E-post
staff-roles = Roller
staff-totp = Tofaktor
staff-status = Status
staff-active = Aktiv
staff-inactive = Deaktivert
staff-unit = Tjenesteområde
staff-initial-password = Første passord
staff-password-hint = Minst 12 tegn. Gi det til personen på en trygg måte.
staff-new-title = Ny ansatt
staff-change = Endre
staff-change-who = Endre { $name }
staff-create = Opprett

units-title = Tjenesteområder
units-intro = Tjenesteområdene i organisasjonen, for eksempel hjemmetjenesten eller et sykehjem.
units-caption = Tjenesteområder
units-new-title = Nytt tjenesteområde
units-create = Opprett
unit-name = Navn
unit-kind = Type
unit-kind-home-care = Hjemmetjeneste
unit-kind-nursing-home = Sykehjem
unit-kind-hospital = Sykehus
unit-kind-general-practice = Fastlegekontor
unit-kind-follow-up-centre = Oppfølgingssentral
unit-kind-other = Annet

settings-title = Innstillinger
settings-intro = Brukerstøtten vises nederst på alle sider, også for pasienter. Endringer gjelder med en gang.
settings-org-name = Organisasjonens navn
settings-support-phone = Telefon til brukerstøtte
settings-support-email = E-post til brukerstøtte
settings-support-hours = Åpningstid for brukerstøtte
settings-totp-roles = Roller som må bruke tofaktorinnlogging

audit-title = Tilgangslogg
audit-intro = Alle oppslag i og endringer av pasientopplysninger, og alle innlogginger, blir logget. Loggen er kjedet med SHA-256, så endringer i ettertid kan oppdages.
audit-chain-ok = Loggen er hel: { $count } oppføringer er kontrollert.
audit-chain-broken = Loggen er IKKE hel:
audit-review-title = Nødtilganger til gjennomgang
audit-review-caption = Nødtilganger som ikke er gjennomgått ennå
audit-review-action = Handling
audit-mark-reviewed = Merk som gjennomgått
audit-search-title = Søk i loggen
audit-who = Hvem
audit-patient = Pasient
audit-patient-id = Pasient-ID
audit-action = Hendelse
audit-any-action = Alle hendelser
audit-from = Fra dato
audit-to = Til dato
audit-flagged-only = Bare flaggede
audit-search = Søk
audit-results = { $count } treff (nyeste først)
audit-when = Når
audit-outcome = Utfall
audit-from-where = Fra adresse
audit-detail = Detaljer
audit-reason = Begrunnelse

done-saved = Endringene er lagret.
done-created = Opprettet.
done-reviewed = Merket som gjennomgått.
done-registered = Pasienten er registrert, og du er lagt til i behandlingsteamet.
done-team = Behandlingsteamet er oppdatert.

error-not-found = Fant ikke siden
error-forbidden = Ingen tilgang
error-unauthenticated = Du er ikke logget inn
error-rate-limited = For mange forsøk
error-invalid = Noe må rettes
error-conflict = Finnes allerede
error-internal = Noe gikk galt
error-not-found-text = Siden eller det du lette etter finnes ikke, eller lenken er feil.
error-forbidden-text = Du har ikke tilgang til dette. Har siden stått åpen lenge, last den inn på nytt og prøv igjen.
error-unauthenticated-text = Du må logge inn for å se dette.
error-rate-limited-text = Det har vært for mange forsøk. Vent litt og prøv igjen.
error-invalid-text = Noe i skjemaet må rettes. Gå tilbake og se på feltene under.
error-conflict-text = Dette finnes allerede, eller kan ikke endres slik.
error-internal-text = Noe gikk galt hos oss. Prøv igjen om litt.
error-what-now = Får du det ikke til, ring brukerstøtte (nummeret står nederst på siden).
error-back-home = Til forsiden
