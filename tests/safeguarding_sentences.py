"""A labelled set of survey answers for the safeguarding keyword lists, written for
cohear's tests and `bench/safeguarding.py`: per language, disclosures of violence,
self-harm or danger that must raise a flag (with the concern they raise), and everyday
answers about health and services that should not.

The everyday answers are chosen to be hard: they share words with the disclosures
("I beat the eggs", "my stomach hurts", "my father died", "the vaccine is safe", "risk
of heart disease", "afraid of needles"). They were written by the developers, not by
native speakers, and together with the lists (so the numbers they give are a floor for
what the lists must do, not an independent measure); a native speaker's review of each
language is welcome. Each key is cohear's tag.
"""

from __future__ import annotations

# language -> [(answer, concern it must raise)]
DISCLOSURES: dict[str, list[tuple[str, str]]] = {
    "en": [
        ("My husband beat me last night.", "abuse"),
        ("He hurts me when he drinks.", "abuse"),
        ("My partner punched me in the face.", "abuse"),
        ("I don't feel safe at home.", "danger"),
        ("Sometimes I just want to end it all.", "self-harm"),
        ("I have thought about killing myself.", "self-harm"),
        ("He kicked me and I fell down the stairs.", "abuse"),
        ("My son slaps me if I don't give him money.", "abuse"),
        ("He is hitting my children again.", "abuse"),
        ("I keep thinking about ending my life.", "self-harm"),
        ("My stepfather threatened to kill us.", "danger"),
        ("I do not feel safe with my ex.", "danger"),
        ("He won't let me leave the house on my own.", "danger"),
        ("I'm scared of my husband.", "danger"),
        ("I don't want to live anymore.", "self-harm"),
        ("They forced me to marry my cousin.", "abuse"),
    ],
    "ur": [
        ("میرے شوہر مجھے مارتے ہیں", "abuse"),
        ("وہ مجھے روز مارتا تھا", "abuse"),
        ("میرا شوہر شراب پی کر مجھے مارتا ہے", "abuse"),
        ("میرے شوہر نے مجھے پیٹا", "abuse"),
        ("وہ بچوں کو بہت مارتا ہے", "abuse"),
        ("میری ساس مجھے دھمکیاں دیتی ہے", "danger"),
        ("میں گھر میں محفوظ نہیں ہوں", "danger"),
        ("مجھے اپنے شوہر سے ڈر لگتا ہے", "danger"),
        ("کبھی کبھی دل کرتا ہے کہ خودکشی کر لوں", "self-harm"),
        ("میں مرنا چاہتی ہوں", "self-harm"),
        ("میں اپنی جان لینا چاہتا ہوں", "self-harm"),
        ("میرے گھر والوں نے زبردستی میری شادی کروائی", "abuse"),
    ],
    "pa-Guru": [
        ("ਮੇਰਾ ਪਤੀ ਮੈਨੂੰ ਮਾਰਦਾ ਹੈ", "abuse"),
        ("ਉਹ ਮੈਨੂੰ ਕੁੱਟਦਾ ਸੀ", "abuse"),
        ("ਮੇਰੇ ਘਰਵਾਲੇ ਨੇ ਮੈਨੂੰ ਕੁੱਟਿਆ", "abuse"),
        ("ਉਹ ਬੱਚਿਆਂ ਨੂੰ ਮਾਰਦਾ ਹੈ", "abuse"),
        ("ਮੇਰੀ ਸੱਸ ਮੈਨੂੰ ਧਮਕੀਆਂ ਦਿੰਦੀ ਹੈ", "danger"),
        ("ਮੈਂ ਘਰ ਵਿੱਚ ਸੁਰੱਖਿਅਤ ਨਹੀਂ ਹਾਂ", "danger"),
        ("ਮੈਨੂੰ ਆਪਣੇ ਪਤੀ ਤੋਂ ਡਰ ਲੱਗਦਾ ਹੈ", "danger"),
        ("ਕਈ ਵਾਰ ਮੈਂ ਖੁਦਕੁਸ਼ੀ ਬਾਰੇ ਸੋਚਦੀ ਹਾਂ", "self-harm"),
        ("ਮੈਂ ਮਰਨਾ ਚਾਹੁੰਦੀ ਹਾਂ", "self-harm"),
        ("ਮੈਂ ਆਪਣੀ ਜਾਨ ਲੈਣਾ ਚਾਹੁੰਦਾ ਹਾਂ", "self-harm"),
    ],
    "pa-Arab": [
        ("میرا گھر والا مینوں ماردا اے", "abuse"),
        ("اوہ مینوں کُٹدا سی", "abuse"),
        ("میرے خاوند نے مینوں کُٹیا", "abuse"),
        ("اوہ بچیاں نوں ماردا اے", "abuse"),
        ("میری سس مینوں دھمکیاں دیندی اے", "danger"),
        ("میں گھر وچ محفوظ نئیں آں", "danger"),
        ("مینوں اپنے گھر والے توں ڈر لگدا اے", "danger"),
        ("کدی کدی میں خودکشی بارے سوچدی آں", "self-harm"),
        ("میں مرنا چاہندی آں", "self-harm"),
    ],
    "bn": [
        ("আমার স্বামী আমাকে মারে", "abuse"),
        ("সে আমাকে প্রতিদিন মারত", "abuse"),
        ("আমার স্বামী আমাকে মেরেছে", "abuse"),
        ("সে বাচ্চাদের মারধর করে", "abuse"),
        ("আমার শাশুড়ি আমাকে হুমকি দেয়", "danger"),
        ("আমি বাড়িতে নিরাপদ নই", "danger"),
        ("আমি আমার স্বামীকে ভয় পাই", "danger"),
        ("মাঝে মাঝে আত্মহত্যার কথা ভাবি", "self-harm"),
        ("আমি মরে যেতে চাই", "self-harm"),
        ("আমি নিজেকে শেষ করে দিতে চাই", "self-harm"),
    ],
    "pl": [
        ("Mąż mnie bije.", "abuse"),
        ("On mnie wczoraj uderzył.", "abuse"),
        ("Kopnął mnie w brzuch.", "abuse"),
        ("Bije dzieci, kiedy pije.", "abuse"),
        ("Partner grozi mi, że zabierze dzieci.", "danger"),
        ("Nie czuję się bezpiecznie w domu.", "danger"),
        ("Boję się mojego męża.", "danger"),
        ("Czasami myślę o samobójstwie.", "self-harm"),
        ("Chcę umrzeć.", "self-harm"),
        ("Myślałam, żeby odebrać sobie życie.", "self-harm"),
    ],
    "ar": [
        ("زوجي يضربني", "abuse"),
        ("ضربني أمس أمام الأطفال", "abuse"),
        ("يؤذيني عندما يشرب", "abuse"),
        ("يضرب أطفالي", "abuse"),
        ("يهددني بأخذ الأطفال", "danger"),
        ("لا أشعر بالأمان في البيت", "danger"),
        ("أخاف من زوجي", "danger"),
        ("أفكر في الانتحار أحيانا", "self-harm"),
        ("أريد أن أموت", "self-harm"),
        ("أريد أن أنهي حياتي", "self-harm"),
    ],
    "so": [
        ("Ninkaygu wuu i garaacaa.", "abuse"),
        ("Shalay ayuu i garaacay.", "abuse"),
        ("Carruurta ayuu garaacaa.", "abuse"),
        ("Wuxuu iga hanjabaa inuu carruurta qaadanayo.", "danger"),
        ("Guriga ammaan kuma dareemo.", "danger"),
        ("Waan ka baqaa ninkayga.", "danger"),
        ("Waxaan doonayaa inaan is dilo.", "self-harm"),
        ("Waxaan ka fikiraa isdilid.", "self-harm"),
    ],
}

# language -> everyday answers that should raise no flag
EVERYDAY: dict[str, list[str]] = {
    "en": [
        "I beat the eggs and added some milk.",
        "The bus beat me to the stop this morning.",
        "My back hurts when I walk to the clinic.",
        "The injection didn't hurt at all.",
        "I feel safe with my GP.",
        "Hand gel kills germs.",
        "I hit my head on the cupboard door last week.",
        "Our team got beaten on Saturday.",
        "My daughter kicked the ball into the neighbour's garden.",
        "Is the vaccine safe for pregnant women?",
        "I was worried the medicine would not be safe with my other tablets.",
        "My blood pressure is under control now.",
        "The nurse explained everything and I felt at ease.",
        "I waited two hours and it was the end of my day off.",
        "Asthma can be life-threatening, so I keep my inhaler with me.",
        "My grandmother died last year.",
    ],
    "ur": [
        "میرے پیٹ میں درد ہے",
        "ڈاکٹر نے مجھے دوا دی",
        "کلینک بہت دور ہے اور بس دیر سے آتی ہے",
        "ہم نے مچھر مارنے کا اسپرے خریدا",
        "مجھے انجکشن سے ڈر لگتا ہے",
        "میری بیماری کی وجہ سے میں کام نہیں کر سکتا",
        "مارچ میں میری اپوائنٹمنٹ ہے",
        "یہ ویکسین بچوں کے لیے محفوظ ہے",
        "دل کی بیماری کا خطرہ کم کرنے کے لیے ورزش کریں",
        "میری دادی پچھلے سال فوت ہو گئیں",
    ],
    "pa-Guru": [
        "ਮੇਰੇ ਪੇਟ ਵਿੱਚ ਦਰਦ ਹੈ",
        "ਡਾਕਟਰ ਨੇ ਮੈਨੂੰ ਦਵਾਈ ਦਿੱਤੀ",
        "ਕਲੀਨਿਕ ਬਹੁਤ ਦੂਰ ਹੈ",
        "ਮੈਨੂੰ ਟੀਕੇ ਤੋਂ ਡਰ ਲੱਗਦਾ ਹੈ",
        "ਅਸੀਂ ਮੱਛਰ ਮਾਰਨ ਵਾਲੀ ਦਵਾਈ ਖਰੀਦੀ",
        "ਮੇਰੀ ਮਾਂ ਬਿਮਾਰ ਹੈ",
        "ਨਰਸ ਨੇ ਸਭ ਕੁਝ ਚੰਗੀ ਤਰ੍ਹਾਂ ਸਮਝਾਇਆ",
        "ਮੇਰੇ ਦਾਦਾ ਜੀ ਪਿਛਲੇ ਸਾਲ ਮਰ ਗਏ",
        "ਇਹ ਦਵਾਈ ਬੱਚਿਆਂ ਲਈ ਸੁਰੱਖਿਅਤ ਹੈ",
    ],
    "pa-Arab": [
        "میرے ڈھڈ وچ درد اے",
        "ڈاکٹر نے مینوں دوائی دتی",
        "کلینک بہت دور اے",
        "مینوں ٹیکے توں ڈر لگدا اے",
        "اسیں مچھر مارن والی دوائی لئی",
        "میری ماں بیمار اے",
        "نرس نے سب کجھ چنگی طرح سمجھایا",
        "میرے دادا جی پچھلے سال مر گئے",
        "ایہہ دوائی بچیاں لئی محفوظ اے",
    ],
    "bn": [
        "আমার পেটে ব্যথা",
        "ডাক্তার আমাকে ওষুধ দিয়েছেন",
        "ক্লিনিক অনেক দূরে",
        "আমার বাবা গত বছর মারা গেছেন",
        "আমি ইনজেকশন ভয় পাই",
        "এই ওষুধ শিশুদের জন্য নিরাপদ",
        "আমরা মশা মারার ওষুধ কিনেছি",
        "নার্স সবকিছু ভালোভাবে বুঝিয়ে দিয়েছেন",
        "ডায়াবেটিসের ঝুঁকি কমাতে হাঁটুন",
    ],
    "pl": [
        "Serce mi mocno bije po schodach.",
        "Ubiłam jajka na omlet.",
        "Szczepionka jest bezpieczna dla dzieci.",
        "Przychodnia jest daleko od domu.",
        "Boję się zastrzyków.",
        "Lekarz wszystko mi wyjaśnił.",
        "Mój dziadek zmarł w zeszłym roku.",
        "Ten lek zabija bakterie.",
        "Pielęgniarka była bardzo miła.",
    ],
    "ar": [
        "أشعر بألم في بطني",
        "العيادة بعيدة عن بيتي",
        "الطبيب أعطاني دواء",
        "هذا اللقاح آمن للأطفال",
        "أخاف من الإبر",
        "أصابتني ضربة شمس الصيف الماضي",
        "توفي جدي العام الماضي",
        "الممرضة كانت لطيفة جدا",
        "اضرب البيض مع الحليب",
        "التدخين يزيد خطر الإصابة بأمراض القلب",
    ],
    "so": [
        "Caloosha ayaa i xanuunaysa.",
        "Rugta caafimaadku way fog tahay.",
        "Dhakhtarku wuxuu i siiyay daawo.",
        "Tallaalku waa ammaan carruurta.",
        "Waan ka baqaa irbadaha.",
        "Awowgay wuxuu dhintay sannadkii hore.",
        "Kalkaalisadu aad bay u fiicnayd.",
        "Ukunta ayaan garaacay.",
        "Waxaan dilay kaneecada.",
    ],
}

# Written after the lists were finished and never used to change them: a second look
# at how the lists do on answers they were not written for (bench/safeguarding.py
# reports them apart; the tests do not require them).
HELD_OUT_DISCLOSURES: dict[str, list[tuple[str, str]]] = {
    "en": [("My dad used to hit my mum in front of us.", "abuse"),
           ("I've been self-harming again.", "self-harm"),
           ("He grabbed me by the throat.", "abuse"),
           ("I feel like there is no point in living.", "self-harm")],
    "ur": [("وہ مجھے گالیاں دیتا ہے اور مارتا بھی ہے", "abuse"),
           ("میں اب اور جینا نہیں چاہتی", "self-harm"),
           ("میرے سسر نے مجھے دھکا دیا", "abuse"),
           ("مجھے ڈر ہے کہ وہ مجھے جان سے مار دے گا", "abuse")],
    "pa-Guru": [("ਮੇਰਾ ਘਰਵਾਲਾ ਸ਼ਰਾਬ ਪੀ ਕੇ ਕੁੱਟਦਾ ਹੈ", "abuse"),
                ("ਮੈਂ ਹੁਣ ਜੀਣਾ ਨਹੀਂ ਚਾਹੁੰਦੀ", "self-harm"),
                ("ਉਹ ਮੈਨੂੰ ਜਾਨੋਂ ਮਾਰਨ ਦੀ ਧਮਕੀ ਦਿੰਦਾ ਹੈ", "danger"),
                ("ਮੇਰੀ ਸੱਸ ਮੇਰੇ ਨਾਲ ਬਹੁਤ ਮਾੜਾ ਸਲੂਕ ਕਰਦੀ ਹੈ", "abuse")],
    "pa-Arab": [("میرا خاوند شراب پی کے مینوں ماردا اے", "abuse"),
                ("میں ہن جینا نئیں چاہندی", "self-harm"),
                ("اوہ مینوں دھمکی دیندا اے", "danger"),
                ("میری سس میرے نال بہت برا سلوک کردی اے", "abuse")],
    "bn": [("আমার স্বামী মদ খেয়ে আমাকে মারধর করে", "abuse"),
           ("আমি আর বাঁচতে চাই না", "self-harm"),
           ("সে আমাকে মেরে ফেলার হুমকি দেয়", "danger"),
           ("আমার শ্বশুরবাড়ির লোকজন আমার সাথে খারাপ ব্যবহার করে", "abuse")],
    "pl": [("Mój mąż pije i wtedy mnie bije.", "abuse"),
           ("Nie widzę sensu życia.", "self-harm"),
           ("Ojczym uderzył moją córkę.", "abuse"),
           ("Partner zabrania mi wychodzić z domu.", "danger")],
    "ar": [("زوجي يضربني ويشتمني", "abuse"),
           ("لم أعد أريد العيش", "self-harm"),
           ("هددني بالقتل", "danger"),
           ("أبي يضرب أمي", "abuse")],
    "so": [("Ninkaygu wuu i jirdilaa.", "abuse"),
           ("Ma rabo inaan noolaado.", "self-harm"),
           ("Aabbahay wuxuu garaacaa hooyaday.", "abuse"),
           ("Wuxuu igu hanjabay inuu i dilayo.", "danger")],
}
HELD_OUT_EVERYDAY: dict[str, list[str]] = {
    "en": ["I was scared of the dentist as a child.", "My son is a great help to me.",
           "I can't go on waiting this long for appointments.", "I felt safe and looked after."],
    "ur": ["ڈاکٹر نے کہا کہ یہ دوا محفوظ ہے", "میرے بیٹے کو بخار ہے", "بس میں بہت رش تھا",
           "مجھے دانتوں کے ڈاکٹر سے ڈر لگتا ہے"],
    "pa-Guru": ["ਮੇਰੇ ਪੁੱਤਰ ਨੂੰ ਬੁਖਾਰ ਹੈ", "ਡਾਕਟਰ ਨੇ ਕਿਹਾ ਇਹ ਟੀਕਾ ਸੁਰੱਖਿਅਤ ਹੈ",
                "ਬੱਸ ਬਹੁਤ ਦੇਰ ਨਾਲ ਆਈ", "ਮੈਂ ਰੋਜ਼ ਸੈਰ ਕਰਦੀ ਹਾਂ"],
    "pa-Arab": ["میرے پتر نوں بخار اے", "ڈاکٹر نے آکھیا ایہہ ٹیکا محفوظ اے",
                "بس بہت دیر نال آئی", "میں روز سیر کردی آں"],
    "bn": ["আমার ছেলের জ্বর হয়েছে", "ডাক্তার বলেছেন এই টিকা নিরাপদ", "বাস অনেক দেরিতে এসেছিল",
           "আমি প্রতিদিন হাঁটি"],
    "pl": ["Syn ma gorączkę.", "Lekarz powiedział, że szczepionka jest bezpieczna.",
           "Autobus bardzo się spóźnił.", "Codziennie chodzę na spacer."],
    "ar": ["ابني مصاب بالحمى", "قال الطبيب إن اللقاح آمن", "تأخرت الحافلة كثيرا", "أمشي كل يوم"],
    "so": ["Wiilkayga ayaa qandho qaba.", "Dhakhtarku wuxuu yiri tallaalku waa ammaan.",
           "Baskii aad buu u soo daahay.", "Maalin walba waan socdaa."],
}

# Everyday answers a keyword list cannot tell from a disclosure; flagging them is the
# price of catching the real ones (a person reads every flagged answer).
FLAGGING_IS_FINE = {
    "The bus beat me to the stop this morning.",
}


def score(hits, languages=None, *, disclosures=None, everyday=None) -> dict[str, dict]:
    """Per language: recall (disclosures flagged with their concern), precision (flags
    that were disclosures) and what was missed or wrongly flagged, for `hits(text,
    language) -> [concerns]` (surveys.safeguarding.keyword_hits or an older version)."""
    disclosures = DISCLOSURES if disclosures is None else disclosures
    everyday = EVERYDAY if everyday is None else everyday
    out = {}
    for tag in languages or disclosures:
        caught = [(t, c) for t, c in disclosures[tag] if c in hits(t, tag)]
        missed = [t for t, c in disclosures[tag] if (t, c) not in caught]
        false = [t for t in everyday.get(tag, []) if hits(t, tag)]
        flagged = len(caught) + len(false)
        out[tag] = {"disclosures": len(disclosures[tag]), "everyday": len(everyday.get(tag, [])),
                    "caught": len(caught), "false_flags": len(false),
                    "recall": len(caught) / len(disclosures[tag]),
                    "precision": len(caught) / flagged if flagged else None,
                    "missed": missed, "wrongly_flagged": false}
    return out
