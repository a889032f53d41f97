# Helsebro – norsk nynorsk. Kvar nøkkel må òg finnast i nb.ftl (standardspråket) og en.ftl.

skip-to-content = Hopp til hovudinnhaldet
language-switch = Vel språk
nav-label = Hovudmeny
nav-worklist = Arbeidsliste
nav-new-patient = Registrer pasient
nav-staff = Tilsette
nav-units = Tenesteområde
nav-settings = Innstillingar
nav-audit = Tilgangslogg
logout = Logg ut
save = Lagre
yes = Ja
no = Nei

footer-support-heading = Treng du hjelp?
footer-support-text = Ring brukarstøtta på
footer-support-hours = Opningstid:

role-administrator = Administrator
role-service-owner = Tenesteeigar
role-clinician = Behandlar
role-follow-up-nurse = Oppfølgingssjukepleiar
role-superuser = Superbrukar
role-support = Brukarstøtte
role-data-protection-officer = Personvernombod

login-title = Logg inn
login-intro = For tilsette i helse- og omsorgstenesta. Logg inn med brukarnamn og passord.
login-username = Brukarnamn
login-password = Passord
login-submit = Logg inn
login-failed = Feil brukarnamn eller passord. Prøv igjen, eller ring brukarstøtta.
login-patient-hint = Er du pasient eller pårørande? Bruk lenka du har fått på SMS eller e-post. Du treng ikkje logge inn her.

totp-title = Eingongskode
totp-intro = Skriv inn den sekssifra koden frå autentiseringsappen på telefonen din.
totp-code = Kode (6 siffer)
totp-code-hint = Koden skiftar kvart 30. sekund.
totp-submit = Stadfest
totp-failed = Koden er feil eller allereie brukt. Vent på neste kode og prøv igjen.

enrol-title = Set opp tofaktorinnlogging
enrol-intro = Rolla di gir tilgang til helseopplysningar. Difor må du bruke ein eingongskode i tillegg til passordet.
enrol-step-app = Installer ein autentiseringsapp på telefonen (til dømes den kommunen tilrår).
enrol-step-scan = Skann QR-koden med appen.
enrol-qr-caption = QR-kode for autentiseringsappen
enrol-manual = Kan du ikkje skanne? Skriv inn denne nøkkelen i appen:
enrol-step-code = Skriv inn koden appen viser.
enrol-submit = Fullfør oppsettet

home-title = Arbeidsliste
home-greeting = Hei, { $name }
home-your-roles = Rollene dine:
home-shortcuts = Snarvegar
worklist-title = Pasientane mine
worklist-caption = Pasientar du er i behandlingsteamet til
worklist-empty = Du er ikkje i behandlingsteamet til nokon pasientar enno.

find-title = Finn pasient
find-intro = Søk med fødselsnummer. Du får berre sjå pasientar du er i behandlingsteamet til.
find-submit = Søk

patient-title = Pasient
patient-name = Namn
patient-birth-date = Fødselsdato
patient-national-id = Fødselsnummer
patient-phone = Telefon
patient-email = E-post
patient-language = Språk
patient-emergency-banner = Du ser denne pasienten med naudtilgang. Tilgangen er logga og blir gjennomgått av personvernombodet.
patient-new-title = Registrer pasient
patient-new-intro = Du blir sjølv lagd til i behandlingsteamet til pasienten.
patient-new-submit = Registrer

team-role-responsible = Ansvarleg
team-role-following-up = Følgjer opp
team-role-advising = Rådgivar
team-role-referring = Tilvisar
care-team-title = Behandlingsteam
care-team-add = Legg til i teamet
care-team-role = Rolle i teamet
care-team-add-submit = Legg til
contact-title = Kontaktopplysningar

emergency-title = Ikkje i behandlingsteamet ditt
emergency-intro = Pasienten finst, men du er ikkje i behandlingsteamet. Treng du tilgang i ein akutt situasjon, kan du be om naudtilgang. Tilgangen varer i nokre timar, blir logga og blir gjennomgått av personvernombodet.
emergency-reason = Kvifor treng du tilgang?
emergency-reason-hint = Skriv ei kort grunngjeving (minst 10 teikn). Ikkje skriv helseopplysningar.
emergency-submit = Be om naudtilgang

staff-title = Tilsette
staff-caption = Alle tilsette med tilgang til Helsebro
staff-username = Brukarnamn
staff-username-hint = Små bokstavar a–z, tal, punktum, bindestrek eller understrek.
staff-name = Namn
staff-email = E-post
staff-roles = Roller
staff-totp = Tofaktor
staff-status = Status
staff-active = Aktiv
staff-inactive = Deaktivert
staff-unit = Tenesteområde
staff-initial-password = Første passord
staff-password-hint = Minst 12 teikn. Gi det til personen på ein trygg måte.
staff-new-title = Ny tilsett
staff-change = Endre
staff-change-who = Endre { $name }
staff-create = Opprett

units-title = Tenesteområde
units-intro = Tenesteområda i organisasjonen, til dømes heimetenesta eller ein sjukeheim.
units-caption = Tenesteområde
units-new-title = Nytt tenesteområde
units-create = Opprett
unit-name = Namn
unit-kind = Type
unit-kind-home-care = Heimeteneste
unit-kind-nursing-home = Sjukeheim
unit-kind-hospital = Sjukehus
unit-kind-general-practice = Fastlegekontor
unit-kind-follow-up-centre = Oppfølgingssentral
unit-kind-other = Anna

settings-title = Innstillingar
settings-intro = Brukarstøtta blir vist nedst på alle sider, også for pasientar. Endringar gjeld med ein gong.
settings-org-name = Namnet på organisasjonen
settings-support-phone = Telefon til brukarstøtta
settings-support-email = E-post til brukarstøtta
settings-support-hours = Opningstid for brukarstøtta
settings-totp-roles = Roller som må bruke tofaktorinnlogging

audit-title = Tilgangslogg
audit-intro = Alle oppslag i og endringar av pasientopplysningar, og alle innloggingar, blir logga. Loggen er kjeda med SHA-256, så endringar i etterkant kan oppdagast.
audit-chain-ok = Loggen er heil: { $count } oppføringar er kontrollerte.
audit-chain-broken = Loggen er IKKJE heil:
audit-review-title = Naudtilgangar som skal gjennomgåast
audit-review-caption = Naudtilgangar som ikkje er gjennomgått enno
audit-review-action = Handling
audit-mark-reviewed = Merk som gjennomgått
audit-search-title = Søk i loggen
audit-who = Kven
audit-patient = Pasient
audit-patient-id = Pasient-ID
audit-action = Hending
audit-any-action = Alle hendingar
audit-from = Frå dato
audit-to = Til dato
audit-flagged-only = Berre flagga
audit-search = Søk
audit-results = { $count } treff (nyaste først)
audit-when = Når
audit-outcome = Utfall
audit-from-where = Frå adresse
audit-detail = Detaljar
audit-reason = Grunngjeving

done-saved = Endringane er lagra.
done-created = Oppretta.
done-reviewed = Merkt som gjennomgått.
done-registered = Pasienten er registrert, og du er lagd til i behandlingsteamet.
done-team = Behandlingsteamet er oppdatert.

error-not-found = Fann ikkje sida
error-forbidden = Ingen tilgang
error-unauthenticated = Du er ikkje logga inn
error-rate-limited = For mange forsøk
error-invalid = Noko må rettast
error-conflict = Finst allereie
error-internal = Noko gjekk gale
error-not-found-text = Sida eller det du leita etter finst ikkje, eller lenkja er feil.
error-forbidden-text = Du har ikkje tilgang til dette. Har sida stått open lenge, last henne inn på nytt og prøv igjen.
error-unauthenticated-text = Du må logge inn for å sjå dette.
error-rate-limited-text = Det har vore for mange forsøk. Vent litt og prøv igjen.
error-invalid-text = Noko i skjemaet må rettast. Gå tilbake og sjå på felta under.
error-conflict-text = Dette finst allereie, eller kan ikkje endrast slik.
error-internal-text = Noko gjekk gale hos oss. Prøv igjen om litt.
error-what-now = Får du det ikkje til, ring brukarstøtta (nummeret står nedst på sida).
error-back-home = Til framsida
