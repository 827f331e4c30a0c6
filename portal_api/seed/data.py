"""Synthetic reference data for the demo practice. Every person here is invented."""

from __future__ import annotations

from triage_core.safety import DEFAULT_GUIDANCE, DEFAULT_REPLIES, DEFAULT_UNCLAIMED_MINUTES

PRACTICE = {
    "name": "Riverside Family Medicine",
    "timezone": "America/New_York",
    "country": "US",
    "subdivision": "NY",
    "mrn_prefix": "RFM",
    "email_domain": "example.com",
}

GIVEN_NAMES = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Christopher Karen Charles Lisa Daniel Nancy "
    "Matthew Betty Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly Andrew Emily "
    "Paul Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah "
    "Timothy Stephanie Ronald Dorothy Jason Rebecca Edward Sharon Jeffrey Laura Ryan Cynthia "
    "Jacob Amy Gary Kathleen Nicholas Angela Eric Shirley Jonathan Brenda Stephen Emma Larry "
    "Anna Justin Pamela Scott Nicole Brandon Samantha Benjamin Katherine Samuel Christine "
    "Gregory Helen Alexander Debra Patrick Rachel Frank Carolyn Raymond Janet Jack Maria "
    "Dennis Olivia Jerry Heather Tyler Diane Aaron Julie Jose Joyce Adam Victoria Nathan "
    "Ruth Henry Virginia Zachary Lauren Douglas Kelly Peter Christina Kyle Joan Noah Evelyn "
    "Ethan Judith Jeremy Andrea Walter Hannah Christian Megan Keith Cheryl Roger Jacqueline "
    "Terry Martha Austin Madison Sean Teresa Gerald Gloria Carl Sara Harold Janice Dylan Ann "
    "Arthur Kathryn Lawrence Abigail Jordan Sophia Jesse Frances Bryan Jean Billy Alice "
    "Bruce Judy Gabriel Isabella Joe Julia Logan Grace Alan Amber Juan Denise Albert Danielle "
    "Willie Marilyn Elijah Beverly Wayne Charlotte Randy Natalie Vincent Theresa Mason Diana "
    "Roy Brittany Ralph Doris Bobby Kayla Russell Alexis Bradley Lori Philip Marie Eugene "
    "Aisha Wei Priya Mohammed Fatima Hiroshi Mei Carlos Lucia Dmitri Olga Kwame Amara Rahul"
).split()

FAMILY_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
    "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
    "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott "
    "Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter "
    "Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart "
    "Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed "
    "Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray "
    "Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez "
    "Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales "
    "Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds Griffin "
    "Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens "
    "Murray Ford Castro Marshall Owens Harrison Fernandez McDonald Woods Washington Kennedy "
    "Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson Porter "
    "Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes Palmer Wagner "
    "Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice Schmidt Garza Daniels "
    "O'Brien Nakamura Okafor Kowalski Ivanova Haddad Singh Yamamoto Mensah Lindqvist"
).split()

# (name, strength, form, sig, controlled, typical quantity)
MEDICATIONS = (
    ("Lisinopril", "10 mg", "tablet", "Take 1 tablet by mouth once daily", False, 90),
    ("Lisinopril", "20 mg", "tablet", "Take 1 tablet by mouth once daily", False, 90),
    ("Amlodipine", "5 mg", "tablet", "Take 1 tablet by mouth once daily", False, 90),
    ("Losartan", "50 mg", "tablet", "Take 1 tablet by mouth once daily", False, 90),
    ("Hydrochlorothiazide", "25 mg", "tablet", "Take 1 tablet by mouth every morning", False, 90),
    ("Metoprolol succinate ER", "25 mg", "tablet", "Take 1 tablet by mouth once daily", False, 90),
    ("Atorvastatin", "20 mg", "tablet", "Take 1 tablet by mouth at bedtime", False, 90),
    ("Atorvastatin", "40 mg", "tablet", "Take 1 tablet by mouth at bedtime", False, 90),
    ("Rosuvastatin", "10 mg", "tablet", "Take 1 tablet by mouth once daily", False, 90),
    ("Metformin", "500 mg", "tablet", "Take 1 tablet by mouth twice daily with meals", False, 180),
    (
        "Metformin ER",
        "750 mg",
        "tablet",
        "Take 2 tablets by mouth with the evening meal",
        False,
        180,
    ),
    ("Glipizide", "5 mg", "tablet", "Take 1 tablet by mouth before breakfast", False, 90),
    (
        "Insulin glargine",
        "100 units/mL",
        "pen",
        "Inject 20 units under the skin at bedtime",
        False,
        15,
    ),
    (
        "Levothyroxine",
        "50 mcg",
        "tablet",
        "Take 1 tablet by mouth every morning on an empty stomach",
        False,
        90,
    ),
    (
        "Levothyroxine",
        "88 mcg",
        "tablet",
        "Take 1 tablet by mouth every morning on an empty stomach",
        False,
        90,
    ),
    ("Omeprazole", "20 mg", "capsule", "Take 1 capsule by mouth before breakfast", False, 90),
    ("Pantoprazole", "40 mg", "tablet", "Take 1 tablet by mouth once daily", False, 90),
    ("Sertraline", "50 mg", "tablet", "Take 1 tablet by mouth once daily", False, 90),
    ("Escitalopram", "10 mg", "tablet", "Take 1 tablet by mouth once daily", False, 90),
    ("Bupropion XL", "150 mg", "tablet", "Take 1 tablet by mouth every morning", False, 90),
    (
        "Trazodone",
        "50 mg",
        "tablet",
        "Take 1 tablet by mouth at bedtime as needed for sleep",
        False,
        30,
    ),
    (
        "Albuterol HFA",
        "90 mcg/actuation",
        "inhaler",
        "Inhale 2 puffs every 4-6 hours as needed for wheezing",
        False,
        1,
    ),
    ("Fluticasone", "50 mcg/spray", "nasal spray", "1 spray in each nostril once daily", False, 1),
    ("Montelukast", "10 mg", "tablet", "Take 1 tablet by mouth at bedtime", False, 90),
    ("Gabapentin", "300 mg", "capsule", "Take 1 capsule by mouth three times daily", False, 270),
    ("Meloxicam", "15 mg", "tablet", "Take 1 tablet by mouth once daily with food", False, 30),
    (
        "Cyclobenzaprine",
        "10 mg",
        "tablet",
        "Take 1 tablet by mouth at bedtime as needed for muscle spasm",
        False,
        30,
    ),
    (
        "Tamsulosin",
        "0.4 mg",
        "capsule",
        "Take 1 capsule by mouth 30 minutes after the same meal daily",
        False,
        90,
    ),
    ("Apixaban", "5 mg", "tablet", "Take 1 tablet by mouth twice daily", False, 180),
    ("Warfarin", "5 mg", "tablet", "Take as directed by the anticoagulation clinic", False, 90),
    (
        "Alendronate",
        "70 mg",
        "tablet",
        "Take 1 tablet by mouth once weekly with a full glass of water",
        False,
        12,
    ),
    ("Estradiol", "1 mg", "tablet", "Take 1 tablet by mouth once daily", False, 90),
    ("Norethindrone", "0.35 mg", "tablet", "Take 1 tablet by mouth once daily", False, 84),
    ("Allopurinol", "100 mg", "tablet", "Take 1 tablet by mouth once daily", False, 90),
    (
        "Alprazolam",
        "0.5 mg",
        "tablet",
        "Take 1 tablet by mouth twice daily as needed for anxiety",
        True,
        60,
    ),
    ("Lorazepam", "1 mg", "tablet", "Take 1 tablet by mouth at bedtime as needed", True, 30),
    (
        "Zolpidem",
        "5 mg",
        "tablet",
        "Take 1 tablet by mouth at bedtime as needed for sleep",
        True,
        30,
    ),
    (
        "Tramadol",
        "50 mg",
        "tablet",
        "Take 1 tablet by mouth every 6 hours as needed for pain",
        True,
        60,
    ),
    (
        "Oxycodone-acetaminophen",
        "5-325 mg",
        "tablet",
        "Take 1 tablet by mouth every 6 hours as needed for severe pain",
        True,
        20,
    ),
    ("Methylphenidate ER", "36 mg", "tablet", "Take 1 tablet by mouth every morning", True, 30),
    (
        "Amphetamine-dextroamphetamine",
        "20 mg",
        "tablet",
        "Take 1 tablet by mouth every morning",
        True,
        30,
    ),
)

ALLERGIES = (
    ("Penicillin", "hives"),
    ("Sulfa drugs", "rash"),
    ("Codeine", "nausea and vomiting"),
    ("Amoxicillin", "rash"),
    ("Latex", "contact dermatitis"),
    ("Peanuts", "anaphylaxis"),
    ("Shellfish", "hives"),
    ("Aspirin", "wheezing"),
    ("Ibuprofen", "stomach upset"),
    ("Iodinated contrast", "hives"),
    ("Erythromycin", "diarrhea"),
    ("Bee stings", "swelling"),
    ("Ciprofloxacin", "tendon pain"),
    ("Lisinopril", "cough"),
    ("Morphine", "itching"),
)

PHARMACIES = (
    "CVS Pharmacy #4471, 120 Main St",
    "Walgreens #10293, 45 River Rd",
    "Rite Aid #3391, 7 Elm Ave",
    "Riverside Community Pharmacy, 300 Water St",
    "Wegmans Pharmacy, 1 Market Sq",
    "Costco Pharmacy #512",
    "Express Scripts (mail order)",
)

STAFF = (
    # username, display name, role
    ("frontdesk", "Maria Lopez", "front_desk"),
    ("nurse", "Jordan Reyes, RN", "nurse"),
    ("doctor", "Dr. Priya Patel", "clinician"),
    ("admin", "Sam Carter", "admin"),
    ("frontdesk2", "Kevin O'Neill", "front_desk"),
    ("nurse2", "Aisha Bello, RN", "nurse"),
    ("doctor2", "Dr. Daniel Kim", "clinician"),
    ("np", "Grace Whitfield, NP", "clinician"),
)

PROVIDERS = ("Dr. Priya Patel", "Dr. Daniel Kim", "Grace Whitfield, NP")
VISIT_TYPES = (
    "Annual physical",
    "Follow-up",
    "Diabetes check",
    "Blood pressure check",
    "Sick visit",
    "Medication review",
    "Well-woman exam",
    "Telehealth follow-up",
)

MESSAGES = {
    "clinical": (
        (
            "Question about my blood pressure readings",
            "My home readings have been around 150/95 the last week even though I take my "
            "{med} every morning. Should I change anything or come in?",
        ),
        (
            "Side effects from new medication",
            "Since starting {med} I have had a dry cough and some dizziness when I stand up. "
            "Is this normal? Should I keep taking it?",
        ),
        (
            "Rash after starting antibiotic",
            "I noticed a red itchy rash on my arms two days after starting the antibiotic. No "
            "trouble breathing. What should I do?",
        ),
        (
            "Lab results question",
            "I saw my lab results in the portal and my A1c says 7.4. What does that mean for me?",
        ),
        (
            "Sore throat and fever",
            "I have had a sore throat and a fever of 101 since yesterday. Do I need to be seen?",
        ),
        (
            "Follow-up after urgent care visit",
            "I went to urgent care on Saturday for a sprained ankle. They said to follow up "
            "with my doctor within a week.",
        ),
        (
            "Blood sugar running low",
            "My morning sugars have been in the 60s a few times this week. I take {med}.",
        ),
        (
            "Knee pain getting worse",
            "My knee pain is worse going up stairs. Ice helps a little. Should I get an x-ray?",
        ),
    ),
    "billing": (
        (
            "Question about a bill",
            "I received a bill for $145 for my visit last month but I thought it was covered "
            "as a preventive visit. Can you check the coding?",
        ),
        (
            "Insurance changed",
            "My insurance changed on the 1st of the month. How do I send you the new card?",
        ),
        ("Payment plan", "Is it possible to set up a payment plan for my balance?"),
    ),
    "records": (
        (
            "Records for a specialist",
            "Please send my last two years of records to the cardiology office at Mercy "
            "Hospital before my appointment.",
        ),
        (
            "Vaccination record for school",
            "I need a copy of my son's immunization record for school registration.",
        ),
        (
            "Form for work",
            "My employer needs a form filled out for my medical leave. Can I drop it off?",
        ),
    ),
    "other": (
        (
            "Parking at the new building",
            "Where should I park for my appointment at the new building?",
        ),
        ("Update my phone number", "Please update my phone number in my chart."),
        ("Thank you", "Just wanted to say thank you to the nurses for their help last week."),
    ),
}

# Red-flag messages, as patients write them: the demo shows screening, the safety reply and
# escalation with these (the service screens them like any other message).
URGENT_MESSAGES = (
    (
        "Chest pain since this morning",
        "I have had chest pressure on and off since this morning and it goes into my left arm.",
    ),
    (
        "Question about my husband",
        "my husbands face looks droopy on one side and his words are coming out wrong, he was "
        "fine at lunch",
    ),
    (
        "Out of my insulin",
        "I am out of my insulin and the pharmacy says the prescription expired. Please help ASAP.",
    ),
    (
        "Severe headache",
        "Worst headache of my life started an hour ago and Tylenol is not helping.",
    ),
    (
        "Not doing well",
        "honestly i dont want to be alive anymore. everyone would be better off without me",
    ),
    (
        "My son swallowed something",
        "my 2 year old swallowed a button battery from the remote about 20 min ago, he seems ok",
    ),
    (
        "Baby has a fever",
        "my baby is 6 weeks old and has a fever of 101.5, she is not feeding much",
    ),
    (
        "Can't catch my breath",
        "cant breathe well and my lips look a bit blue, inhaler isnt helping",
    ),
)

# Follow-ups the demo's simulated patients send on open requests; some carry a red flag.
FOLLOW_UPS = (
    "Any update on this? Thank you.",
    "Just checking in on this request.",
    "Thanks, I will wait to hear back.",
)
RED_FLAG_FOLLOW_UPS = (
    "now my chest feels tight and im sweating a lot",
    "update: my left arm and face feel numb and my speech is slurred",
    "i took all of my sleeping pills about an hour ago",
    "there is blood in my vomit now",
)

REFILL_NOTES = (
    "I have 3 days left.",
    "Running low, about a week left.",
    "Please send to my usual pharmacy.",
    "I switched pharmacies, please use the new one.",
    "Can I get a 90-day supply this time?",
    "My last refill was denied by insurance, can you check?",
    "Out of this medication today.",
)

APPOINTMENT_REASONS = {
    "new": (
        "Annual physical",
        "New problem: back pain for 2 weeks",
        "Medication review",
        "Follow-up on blood pressure",
        "Skin spot I want checked",
    ),
    "reschedule": (
        "Work conflict",
        "Childcare fell through",
        "I will be traveling",
        "Car trouble",
        "Feeling better, would like a later date",
    ),
    "cancel": (
        "Feeling better",
        "Seeing a specialist instead",
        "Moving out of the area",
        "Insurance no longer covers the visit",
    ),
}

PREFERRED_TIMES = (
    "Weekday mornings",
    "Tuesday or Thursday after 2 pm",
    "Any day before 10 am",
    "Friday afternoon",
    "Monday after 3 pm",
    "Lunchtime if possible",
    "First available",
)

STAFF_REPLIES = {
    "message": (
        "Thank you for your message. {provider} reviewed it and would like you to schedule a "
        "visit this week. Please call the front desk or reply here with times that work.",
        "Hi {first}, we have updated your chart. Let us know if you need anything else.",
        "Thanks for letting us know. Please keep a log of your readings for the next week and "
        "send them to us.",
    ),
    "refill": (
        "Hi {first}, your request has been sent to your pharmacy. It should be ready within 24 "
        "hours.",
        "Hi {first}, could you tell us which pharmacy you would like us to use?",
    ),
    "appointment": (
        "Hi {first}, we can offer Tuesday at 9:40 or Thursday at 2:20. Which works for you?",
        "Hi {first}, {provider} is fully booked that week. Could you do the week after?",
    ),
}

INTERNAL_NOTES = (
    "Called patient, left voicemail.",
    "Checked PDMP, last fill matches.",
    "Insurance requires prior auth, started form.",
    "Discussed with provider, OK to proceed.",
    "Patient confirmed by phone.",
    "Last BMP 3 months ago, within normal limits.",
)

TEMPLATES = (
    {
        "id": "refill-sent",
        "title": "Refill sent to pharmacy",
        "kinds": ["refill"],
        "body": "Hi {patient_first_name}, your refill of {medication} has been sent to "
        "{pharmacy}. It is usually ready within 24 hours. - {staff_name}, {practice_name}",
    },
    {
        "id": "refill-needs-visit",
        "title": "Refill needs a visit",
        "kinds": ["refill"],
        "body": "Hi {patient_first_name}, we sent a 30-day supply of {medication}. You are "
        "due for a visit before further refills; please book one. - {staff_name}",
    },
    {
        "id": "appointment-confirmed",
        "title": "Appointment confirmed",
        "kinds": ["appointment"],
        "body": "Hi {patient_first_name}, your appointment is confirmed for {appointment_time}. "
        "Please arrive 15 minutes early. - {staff_name}, {practice_name}",
    },
    {
        "id": "appointment-call",
        "title": "Please call to schedule",
        "kinds": ["appointment"],
        "body": "Hi {patient_first_name}, we could not match your preferred times. Please call "
        "us so we can find a time that works. - {staff_name}",
    },
    {
        "id": "message-received",
        "title": "Message received",
        "kinds": ["message"],
        "body": "Hi {patient_first_name}, thank you for your message. A member of the care team "
        "will reply within 2 business days. - {staff_name}",
    },
    {
        "id": "message-come-in",
        "title": "Please schedule a visit",
        "kinds": ["message"],
        "body": "Hi {patient_first_name}, the provider would like to see you about this. Please "
        "reply with times that work or call the office. - {staff_name}",
    },
    {
        "id": "urgent-911",
        "title": "Urgent symptoms: call 911",
        "kinds": ["message", "refill", "appointment"],
        "body": "Hi {patient_first_name}, the symptoms you describe need immediate care. Please "
        "call 911 or go to the nearest emergency department now. - {staff_name}",
    },
)


def demo_policy(on_call: str | None = None) -> dict:  # type: ignore[type-arg]
    """Targets as practices publish them: messages in 1-3 business days, refills in 2,
    urgent items within an hour of clock time (an emergency does not wait for Monday). One
    business day here is 8 open hours. `on_call`: the clinician urgent items escalate to."""

    def target(hours: float, business: bool = True) -> dict:  # type: ignore[type-arg]
        return {"hours": hours, "business": business}

    weekday = [["08:00", "12:00"], ["13:00", "17:00"]]
    urgent = {"first_response": target(1, False), "resolution": target(8, False)}
    return {
        "name": PRACTICE["name"],
        "timezone": PRACTICE["timezone"],
        "business_hours": {
            "mon": weekday,
            "tue": weekday,
            "wed": weekday,
            "thu": weekday,
            "fri": [["08:00", "12:00"], ["13:00", "16:00"]],
            "sat": [],
            "sun": [],
        },
        "holidays": {
            "country": PRACTICE["country"],
            "subdivision": PRACTICE["subdivision"],
            "closed": ["2026-12-24", "2026-12-31"],
        },
        "sla": {
            "message": {
                "routine": {"first_response": target(16), "resolution": target(24)},
                "urgent": urgent,
            },
            "refill": {
                "routine": {"first_response": None, "resolution": target(16)},
                "urgent": {"first_response": target(1, False), "resolution": target(4, False)},
            },
            "appointment": {
                "routine": {"first_response": target(8), "resolution": target(16)},
                "urgent": urgent,
            },
        },
        "at_risk_ratio": 0.75,
        "templates": list(TEMPLATES),
        "cutoffs": {"refill": {"after": "15:00"}},
        "safety_replies": dict(DEFAULT_REPLIES),
        "emergency_guidance": DEFAULT_GUIDANCE,
        "escalation": {"unclaimed_minutes": DEFAULT_UNCLAIMED_MINUTES},
        "on_call": {"default": on_call, "rota": []},
    }
