"""Demo help-center content: topics and articles in Turkish and English (see portal/kb/demo.py).

Each article pair is (tr_slug, en_slug, topic, visibility, Turkish (title, summary, body),
English (title, summary, body)). Bodies are Markdown.
"""

from __future__ import annotations

# slug, name_tr, name_en, description_tr, description_en, parent slug
TOPICS = [
    ("siparis", "Siparişler", "Orders", "Sipariş durumu, iptal ve değişiklikler.",
     "Order status, cancellations and changes.", None),
    ("kargo", "Kargo ve teslimat", "Shipping and delivery", "Teslimat süreleri, kargo takibi ve ücretler.",
     "Delivery times, tracking and costs.", None),
    ("kargo-sorunlari", "Teslimat sorunları", "Delivery problems", "Hasarlı, eksik veya geciken paketler.",
     "Damaged, missing or late parcels.", "kargo"),
    ("iade", "İade ve değişim", "Returns and exchanges", "İade koşulları, para iadesi ve ürün değişimi.",
     "Return policy, refunds and exchanges.", None),
    ("odeme", "Ödeme ve fatura", "Payment and invoices", "Ödeme yöntemleri, taksit ve faturalar.",
     "Payment methods, instalments and invoices.", None),
    ("hesap", "Hesap ve güvenlik", "Account and security", "Şifre, e-posta, kişisel veriler.",
     "Password, e-mail and personal data.", None),
]

ARTICLES = [
    ("siparis-durumu", "order-status", "siparis", "everyone",
     ("Siparişimin durumunu nasıl öğrenirim?",
      "Siparişinizin hangi aşamada olduğunu hesabınızdan veya sipariş numaranızla görebilirsiniz.",
      """Siparişinizin durumunu iki yoldan görebilirsiniz.

## Hesabınızla

1. Portala giriş yapın.
2. **Siparişlerim** sayfasını açın.
3. Siparişe tıklayın: durum geçmişi, ürünler ve kargo takip bağlantısı burada.

## Hesap olmadan

Ana sayfadaki **Sipariş takibi** bölümüne sipariş numaranızı (ör. `SP-10042`) ve siparişte kullandığınız
e-posta adresini yazın.

## Durumlar ne anlama geliyor?

| Durum | Anlamı |
|---|---|
| Alındı | Siparişiniz bize ulaştı. |
| Onaylandı | Ödemeniz onaylandı. |
| Hazırlanıyor | Ürünleriniz depoda paketleniyor. |
| Kargoya verildi | Paket kargo firmasında; takip numarası e-postanızda. |
| Dağıtımda | Kurye bugün teslim etmeye çalışacak. |
| Teslim edildi | Paket teslim alındı. |

## Durum uzun süredir değişmedi

*Hazırlanıyor* aşaması iş günlerinde en fazla 2 gün sürer. Daha uzun sürdüyse sipariş sayfasındaki
**Bu siparişle ilgili yardım al** bağlantısından bize yazın.
"""),
     ("How do I check my order status?",
      "See where your order is from your account, or with your order number.",
      """You can check your order in two ways.

## With your account

1. Log in to the portal.
2. Open **My orders**.
3. Select the order: its status history, items and the carrier's tracking link are there.

## Without an account

On the home page, under **Track an order**, enter your order number (e.g. `SP-10042`) and the e-mail
address you used for the order.

## What the statuses mean

| Status | Meaning |
|---|---|
| Received | Your order has reached us. |
| Confirmed | Your payment was approved. |
| Preparing | Your items are being packed. |
| Shipped | The parcel is with the carrier; the tracking number is in your e-mail. |
| Out for delivery | The courier will try to deliver it today. |
| Delivered | The parcel was handed over. |

## The status has not changed for a while

*Preparing* takes at most 2 working days. If it takes longer, write to us with **Get help with this
order** on the order page.
""")),
    ("siparis-iptali", "cancel-an-order", "siparis", "everyone",
     ("Siparişimi iptal edebilir miyim?",
      "Kargoya verilmemiş siparişler ücretsiz iptal edilir.",
      """Siparişiniz **kargoya verilmeden önce** iptal edilebilir.

- Durumu *Alındı*, *Onaylandı* veya *Hazırlanıyor* olan siparişler için sipariş sayfasından yardım
  talebi gönderin; ekibimiz aynı iş günü içinde iptal eder.
- Ödemeniz, iptalden sonra 1-3 iş günü içinde kartınıza iade edilir.

Siparişiniz kargoya verildiyse iptal edilemez; paketi teslim aldıktan sonra
[iade](/kb/articles/iade-nasil-yapilir) edebilirsiniz.
"""),
     ("Can I cancel my order?",
      "Orders that have not been shipped can be cancelled free of charge.",
      """An order can be cancelled **until it is shipped**.

- For orders that are *Received*, *Confirmed* or *Preparing*, send a request from the order page; the team
  cancels it the same working day.
- Your payment goes back to your card within 1-3 working days after the cancellation.

Once the order has shipped it can no longer be cancelled; you can
[return it](/kb/articles/how-to-return-an-item) after delivery.
""")),
    ("siparis-degisikligi", "change-an-order", "siparis", "everyone",
     ("Siparişimde değişiklik yapabilir miyim?",
      "Teslimat adresi ve ürünler, sipariş hazırlanmadan önce değiştirilebilir.",
      """Sipariş **Hazırlanıyor** aşamasına geçmeden önce şunları değiştirebiliriz:

- teslimat adresi (aynı şehir içinde),
- ürün bedeni veya rengi (stokta varsa),
- fatura bilgileri.

Değişiklik için sipariş sayfasındaki **Bu siparişle ilgili yardım al** bağlantısını kullanın ve yeni
bilgileri yazın. Kargoya verilmiş bir siparişin adresi ancak kargo firması üzerinden değiştirilebilir.
"""),
     ("Can I change my order?",
      "The delivery address and items can be changed before the order is prepared.",
      """Before an order moves to **Preparing** we can change:

- the delivery address (within the same city),
- the size or colour of an item (if in stock),
- the invoice details.

Use **Get help with this order** on the order page and tell us what should change. Once shipped, only the
carrier can change the delivery address.
""")),
    ("eksik-urun", "missing-item", "kargo-sorunlari", "everyone",
     ("Siparişimden eksik ürün çıktı",
      "Paketinizde bir ürün eksikse 7 gün içinde bize bildirin.",
      """Bazı siparişler birden fazla pakette gönderilir. Önce e-postanızdaki kargo bilgilerini kontrol edin:
ikinci bir takip numarası olabilir.

Ürün gerçekten eksikse **teslimattan sonraki 7 gün içinde** sipariş sayfasından bize yazın ve:

- paketin fotoğrafını,
- kargo etiketinin fotoğrafını

ekleyin. Eksik ürünü ücretsiz göndeririz ya da bedelini iade ederiz.
"""),
     ("An item is missing from my order",
      "If an item is missing from your parcel, tell us within 7 days.",
      """Some orders are sent in more than one parcel. First check the shipping e-mail: there may be a second
tracking number.

If an item really is missing, write to us from the order page **within 7 days of delivery** and attach:

- a photo of the parcel,
- a photo of the shipping label.

We send the missing item free of charge or refund it.
""")),
    ("teslimat-sureleri", "delivery-times", "kargo", "everyone",
     ("Kargo ne zaman gelir? Teslimat süreleri",
      "Siparişler 1-2 iş gününde kargoya verilir, 1-3 iş gününde teslim edilir.",
      """## Hazırlık

Saat 14:00'e kadar verilen siparişler aynı gün, sonrakiler ertesi iş günü kargoya verilir.

## Teslimat

| Bölge | Süre |
|---|---|
| İstanbul, Ankara, İzmir | 1-2 iş günü |
| Diğer iller | 2-3 iş günü |
| Köy ve mahalle dışı adresler | 3-5 iş günü |

## Resmî tatiller

Bayramlarda ve resmî tatillerde kargo firmaları çalışmaz; teslimat tatilden sonraki ilk iş gününe kalır.

## İstanbul içi aynı gün teslimat

İstanbul'daki adreslere, saat 11:00'e kadar verilen siparişler için aynı gün teslimat seçeneği vardır.
"""),
     ("When will my parcel arrive? Delivery times",
      "Orders ship within 1-2 working days and arrive within 1-3 working days.",
      """## Preparation

Orders placed before 14:00 ship the same day, later ones the next working day.

## Delivery

| Region | Time |
|---|---|
| Istanbul, Ankara, Izmir | 1-2 working days |
| Other provinces | 2-3 working days |
| Rural addresses | 3-5 working days |

## Public holidays

Carriers do not deliver on public and religious holidays; delivery moves to the first working day after.

## Same-day delivery in Istanbul

Addresses in Istanbul can get same-day delivery for orders placed before 11:00.
""")),
    ("kargo-takibi", "track-a-parcel", "kargo", "everyone",
     ("Kargomu nasıl takip ederim?",
      "Takip numaranız kargoya verildiğinde e-postayla gelir.",
      """Siparişiniz kargoya verildiğinde size **takip numarasını** içeren bir e-posta göndeririz.

- Sipariş sayfanızdaki **Kargoyu takip et** bağlantısı sizi doğrudan kargo firmasının sayfasına götürür.
- Yurtiçi, Aras, MNG, PTT, Sürat, UPS ve DHL ile çalışıyoruz.

Takip bilgisi kargo firmasının sistemine birkaç saat içinde düşer. 24 saat sonra hâlâ bilgi yoksa bize
yazın.
"""),
     ("How do I track my parcel?",
      "You get the tracking number by e-mail when the order ships.",
      """When your order ships we send you an e-mail with the **tracking number**.

- The **Track the parcel** link on your order page takes you straight to the carrier's page.
- We ship with Yurtiçi, Aras, MNG, PTT, Sürat, UPS and DHL.

Tracking appears in the carrier's system within a few hours. If there is nothing after 24 hours, write
to us.
""")),
    ("kargo-ucreti", "shipping-costs", "kargo", "everyone",
     ("Kargo ücreti ne kadar?",
      "500 TL ve üzeri siparişlerde kargo ücretsizdir.",
      """- **500 TL ve üzeri** siparişlerde kargo ücretsiz.
- Daha küçük siparişlerde kargo ücreti 49,90 TL'dir.
- Aynı gün teslimat (İstanbul) 89,90 TL'dir.

İade kargosu, [iade koşullarımıza](/kb/articles/iade-kosullari) uyan ürünlerde ücretsizdir.
"""),
     ("How much is shipping?",
      "Shipping is free on orders of 500 TL or more.",
      """- Shipping is free on orders of **500 TL or more**.
- Smaller orders pay 49.90 TL.
- Same-day delivery (Istanbul) is 89.90 TL.

Return shipping is free for items that meet our [return policy](/kb/articles/return-policy).
""")),
    ("hasarli-paket", "damaged-parcel", "kargo-sorunlari", "everyone",
     ("Hasarlı paket teslim aldım",
      "Hasarlı paketler için tutanak tutturun ve 3 gün içinde bize bildirin.",
      """Paket teslim alırken hasarlı görünüyorsa:

1. Kuryeden **hasar tespit tutanağı** isteyin.
2. Paketin ve ürünün fotoğrafını çekin.
3. 3 gün içinde sipariş sayfasından bize fotoğraflarla yazın.

Hasarlı ürünü kargo ücreti almadan değiştiririz veya bedelini iade ederiz.
"""),
     ("My parcel arrived damaged",
      "Ask the courier for a damage report and tell us within 3 days.",
      """If the parcel looks damaged on delivery:

1. Ask the courier for a **damage report**.
2. Take photos of the parcel and the item.
3. Within 3 days, write to us from the order page with the photos.

We replace the damaged item without a shipping charge or refund it.
""")),
    ("iade-kosullari", "return-policy", "iade", "everyone",
     ("İade koşulları",
      "Ürünlerin çoğunu teslimattan sonra 14 gün içinde ücretsiz iade edebilirsiniz.",
      """Tüketici mevzuatı gereği ürünlerin çoğunu **teslimattan itibaren 14 gün içinde** sebep
göstermeden iade edebilirsiniz.

## Hangi ürünler iade edilebilir?

- Kullanılmamış, etiketi sökülmemiş ürünler,
- orijinal ambalajında, tüm aksesuarlarıyla birlikte.

## Hangi ürünler iade edilemez?

- Hijyen nedeniyle ambalajı açılmış kozmetik ve kişisel bakım ürünleri,
- kişiye özel üretilen ürünler,
- dijital kodlar ve hediye kartları.

## İade kargosu

Koşullara uyan iadelerde kargo ücretsizdir: anlaşmalı kargo firmasına iade kodunuzla teslim edin.

## Para iadesi

Ürün depomuza ulaşıp kontrol edildikten sonra 3 iş günü içinde iade başlatılır. Ayrıntılar için
[Para iadem ne zaman yatar?](/kb/articles/para-iadesi-suresi) yazımıza bakın.
"""),
     ("Return policy",
      "Most items can be returned free of charge within 14 days of delivery.",
      """Under consumer law most items can be returned **within 14 days of delivery** without giving a reason.

## What can be returned?

- Unused items with their tags,
- in the original packaging, with all accessories.

## What cannot be returned?

- Opened cosmetics and personal care items, for hygiene reasons,
- made-to-order items,
- digital codes and gift cards.

## Return shipping

Returns that meet the policy ship free: hand the parcel to our partner carrier with your return code.

## Refunds

We start the refund within 3 working days after the item reaches our warehouse and is checked. See
[When will I get my refund?](/kb/articles/refund-times) for details.
""")),
    ("iade-nasil-yapilir", "how-to-return-an-item", "iade", "everyone",
     ("İade nasıl yapılır?",
      "İade talebi oluşturun, iade kodunuzla ürünü kargoya ücretsiz teslim edin.",
      """1. **İade talebi** formunu doldurun: sipariş numaranızı ve iade sebebini yazın.
2. E-postanıza gelen **iade kodunu** not edin.
3. Ürünü orijinal ambalajıyla paketleyin, faturayı içine koyun.
4. Paketi anlaşmalı kargo şubesine iade kodunuzla teslim edin; ücret ödemezsiniz.

İadeniz depomuza ulaştığında size e-posta göndeririz. İade durumunu sipariş sayfanızda da
görebilirsiniz.
"""),
     ("How to return an item",
      "Create a return request, then hand the parcel to the carrier with your return code, free.",
      """1. Fill in the **return request** form with your order number and the reason.
2. Note the **return code** we e-mail you.
3. Pack the item in its original packaging with the invoice.
4. Hand the parcel to the partner carrier with your return code; you pay nothing.

We e-mail you when the return reaches our warehouse. You can also follow it on your order page.
""")),
    ("para-iadesi-suresi", "refund-times", "iade", "everyone",
     ("Para iadem ne zaman yatar?",
      "İade onaylandıktan sonra kartınıza 2-10 iş gününde yansır.",
      """İadeniz onaylandığında ödemeyi yaptığınız yönteme geri ödeme başlatırız.

| Ödeme yöntemi | Hesabınıza geçme süresi |
|---|---|
| Kredi kartı | 2-10 iş günü (bankanıza göre) |
| Banka kartı | 2-7 iş günü |
| Havale / EFT | 1-2 iş günü |

Taksitli alışverişlerde iade, taksitler hâlinde kartınıza yansıyabilir. 10 iş günü geçtiyse önce
bankanızla görüşün, sonra bize yazın: iade dekontunu göndeririz.
"""),
     ("When will I get my refund?",
      "After the return is approved, refunds reach your card in 2-10 working days.",
      """When your return is approved we refund the payment method you used.

| Payment method | Time to reach your account |
|---|---|
| Credit card | 2-10 working days (depends on your bank) |
| Debit card | 2-7 working days |
| Bank transfer | 1-2 working days |

Purchases paid in instalments may be refunded in instalments too. If 10 working days have passed, check
with your bank first, then write to us: we send you the refund receipt.
""")),
    ("urun-degisimi", "exchange-an-item", "iade", "everyone",
     ("Ürün değişimi: beden veya renk",
      "Beden ve renk değişimi 14 gün içinde ücretsizdir.",
      """Beden veya renk değişimi için ayrı bir iade yapmanıza gerek yok:

1. İade talebi formunda sebep olarak **Değişim** seçin.
2. İstediğiniz bedeni veya rengi yazın.
3. Ürünü iade kodunuzla kargoya verin.

Yeni ürün, eski ürün depomuza ulaştığında gönderilir. İstediğiniz seçenek stokta yoksa ücretini iade
ederiz.
"""),
     ("Exchanging an item: size or colour",
      "Size and colour exchanges are free within 14 days.",
      """You do not need a separate return to change a size or colour:

1. In the return request form choose **Exchange** as the reason.
2. Tell us the size or colour you want.
3. Send the item with your return code.

We ship the new item as soon as the old one reaches the warehouse. If the option you want is out of
stock, we refund you.
""")),
    ("odeme-yontemleri", "payment-methods", "odeme", "everyone",
     ("Ödeme yöntemleri",
      "Kredi kartı, banka kartı, havale/EFT ve kapıda ödeme kabul ediyoruz.",
      """Şu yöntemlerle ödeme yapabilirsiniz:

- **Kredi kartı ve banka kartı** (Visa, Mastercard, Troy): 3D Secure ile güvenli ödeme.
- **Havale / EFT**: sipariş sonrası gönderdiğimiz IBAN'a, açıklamaya sipariş numaranızı yazarak.
- **Kapıda ödeme**: 1.500 TL'ye kadar siparişlerde, 19,90 TL hizmet bedeliyle.

Kart bilgileriniz bizde saklanmaz; ödeme, lisanslı ödeme kuruluşu üzerinden alınır.
"""),
     ("Payment methods",
      "We accept credit and debit cards, bank transfer and cash on delivery.",
      """You can pay with:

- **Credit and debit cards** (Visa, Mastercard, Troy), secured with 3D Secure.
- **Bank transfer**, to the IBAN we send after the order, with your order number as the reference.
- **Cash on delivery** for orders up to 1,500 TL, with a 19.90 TL service fee.

We never store your card details; payments go through a licensed payment institution.
""")),
    ("taksitli-odeme", "instalments", "odeme", "everyone",
     ("Taksitli ödeme yapabilir miyim?",
      "Kredi kartlarına 12 aya kadar taksit seçenekleri sunuyoruz.",
      """Kredi kartıyla yapılan ödemelerde bankanıza göre **2 ile 12 ay** arasında taksit seçebilirsiniz.

- Taksit seçenekleri ödeme sayfasında kart numaranızı yazınca görünür.
- 3 taksite kadar vade farkı yoktur.
- Banka kartları ve ticari kartlarda taksit yapılamaz.
"""),
     ("Can I pay in instalments?",
      "We offer up to 12 instalments on credit cards.",
      """When paying by credit card you can choose **2 to 12 instalments**, depending on your bank.

- The options appear on the payment page once you enter your card number.
- Up to 3 instalments carry no interest.
- Debit and business cards cannot be paid in instalments.
""")),
    ("fatura", "invoices", "odeme", "everyone",
     ("Faturamı nereden alırım?",
      "E-faturanız sipariş kargoya verildiğinde e-postanıza gönderilir.",
      """Faturanız **e-arşiv fatura** olarak düzenlenir ve sipariş kargoya verildiğinde e-postanıza gelir.

- Kurumsal fatura için siparişte vergi numarası ve vergi dairesini girin.
- Fatura bilgilerini sipariş hazırlanmadan önce değiştirebiliriz.
- E-postayı bulamıyorsanız sipariş sayfasından bize yazın; faturayı yeniden göndeririz.
"""),
     ("Where is my invoice?",
      "Your e-invoice is e-mailed to you when the order ships.",
      """Your invoice is issued as an **e-archive invoice** and e-mailed to you when the order ships.

- For a company invoice, enter the tax number and tax office when ordering.
- We can change invoice details before the order is prepared.
- Cannot find the e-mail? Write to us from the order page and we send it again.
""")),
    ("odeme-hatasi", "payment-failed", "odeme", "everyone",
     ("Ödemem neden başarısız oldu?",
      "Ödeme hatalarının çoğu 3D Secure doğrulaması veya kart limitinden kaynaklanır.",
      """Ödemeniz onaylanmadıysa en sık sebepler şunlardır:

- **3D Secure** SMS kodu süresinde girilmedi,
- kart limiti veya bakiyesi yetersiz,
- kart internet alışverişine kapalı,
- bankanız güvenlik nedeniyle işlemi durdurdu.

Başarısız bir ödemede kartınızdan para çekilmez; görünen tutar bir provizyondur ve bankanız tarafından
birkaç gün içinde kaldırılır. Sorun sürerse başka bir kart deneyin veya bankanızı arayın.
"""),
     ("Why did my payment fail?",
      "Most payment errors come from 3D Secure verification or the card limit.",
      """If your payment was declined, the usual reasons are:

- the **3D Secure** SMS code was not entered in time,
- the card limit or balance is too low,
- online payments are disabled on the card,
- your bank stopped the payment for security reasons.

A failed payment takes no money from your card; what you see is a hold that your bank removes within a
few days. If the problem continues, try another card or call your bank.
""")),
    ("sifremi-unuttum", "forgot-password", "hesap", "everyone",
     ("Şifremi unuttum",
      "Giriş sayfasındaki bağlantıyla şifrenizi e-postayla sıfırlayabilirsiniz.",
      """1. Giriş sayfasında **Şifrenizi mi unuttunuz?** bağlantısına tıklayın.
2. Hesabınızın e-posta adresini yazın.
3. Gelen e-postadaki bağlantıyla yeni şifrenizi belirleyin.

Bağlantı **1 saat** geçerlidir ve bir kez kullanılabilir. E-posta gelmediyse gereksiz (spam) klasörünü
kontrol edin. Şifreniz değiştiğinde diğer cihazlardaki oturumlarınız kapanır.
"""),
     ("I forgot my password",
      "Reset your password by e-mail from the log-in page.",
      """1. On the log-in page select **Forgot your password?**.
2. Enter your account's e-mail address.
3. Set a new password with the link we e-mail you.

The link works for **1 hour** and only once. If the e-mail does not arrive, check your spam folder.
Changing your password logs you out on your other devices.
""")),
    ("e-posta-dogrulama", "verify-your-email", "hesap", "everyone",
     ("E-posta adresimi nasıl doğrularım?",
      "Kayıttan sonra gelen e-postadaki bağlantıya tıklayın.",
      """Kayıt olduktan sonra size bir doğrulama e-postası göndeririz. E-postadaki bağlantıya tıkladığınızda
hesabınız açılır ve siparişleriniz görünür.

- Bağlantı 3 gün geçerlidir.
- E-posta gelmediyse giriş sayfasından **Bağlantıyı yeniden gönder** seçeneğini kullanın.
- İŞ veya OKUL adreslerinde bazen e-postalar geç ulaşabilir; birkaç dakika bekleyin.
"""),
     ("How do I verify my e-mail address?",
      "Select the link in the e-mail we send after you sign up.",
      """After you sign up we send a verification e-mail. Selecting its link opens your account and shows your
orders.

- The link is valid for 3 days.
- If it did not arrive, use **Send the link again** on the log-in page.
- Work or school mailboxes sometimes deliver late: give it a few minutes.
""")),
    ("hesap-silme", "delete-your-account", "hesap", "everyone",
     ("Hesabımı ve verilerimi nasıl silerim? (KVKK)",
      "Hesap sayfasından verilerinizi indirebilir ve hesabınızı silebilirsiniz.",
      """KVKK kapsamındaki haklarınızı portal üzerinden kullanabilirsiniz.

## Verilerimi indirmek

**Hesabım** sayfasında **Verilerimi indir** ile profilinizi, siparişlerinizi ve taleplerinizi tek bir
dosya olarak alabilirsiniz.

## Hesabımı silmek

**Hesabım → Hesabımı sil** ile hesabınızı kapatabilirsiniz:

- adınız, e-posta adresiniz ve telefonunuz silinir veya anonimleştirilir,
- yasal saklama süresi olan fatura kayıtları, kişisel bilgileriniz olmadan saklanır,
- bu işlem geri alınamaz.

## Sorularınız için

Kişisel verilerle ilgili her soru için bize yazabilirsiniz; 30 gün içinde yanıt veririz.
"""),
     ("How do I delete my account and data? (GDPR)",
      "Download your data and delete your account from your account page.",
      """You can use your data protection rights (KVKK/GDPR) right in the portal.

## Download my data

On **Your account**, **Download my data** gives you your profile, orders and requests in one file.

## Delete my account

**Your account → Delete my account** closes your account:

- your name, e-mail address and phone number are erased or anonymised,
- invoice records that the law requires us to keep are kept without your personal details,
- this cannot be undone.

## Questions

Write to us with any question about your personal data; we answer within 30 days.
""")),
    ("adreslerim", "saved-addresses", "hesap", "customers",
     ("Kayıtlı adreslerimi yönetmek",
      "Hesabınızdaki teslimat ve fatura adreslerini ekleyin, düzenleyin veya silin.",
      """Giriş yaptıktan sonra **Hesabım → Adreslerim** bölümünden:

- yeni teslimat veya fatura adresi ekleyebilir,
- varsayılan adresinizi seçebilir,
- artık kullanmadığınız adresleri silebilirsiniz.

Bir adresin silinmesi, o adrese gönderilmiş eski siparişleri etkilemez.
"""),
     ("Managing your saved addresses",
      "Add, edit or remove the delivery and invoice addresses on your account.",
      """Once logged in, under **Your account → Addresses** you can:

- add a delivery or invoice address,
- choose your default address,
- remove addresses you no longer use.

Removing an address does not change past orders sent to it.
""")),
    ("iade-ic-yonerge", "returns-internal-procedure", "iade", "staff",
     ("İade süreci: iç yönerge",
      "Personel için: iade taleplerinin kontrolü ve onayı.",
      """**Yalnızca personel içindir.**

1. Talepteki sipariş numarasını ve teslim tarihini kontrol edin (14 gün).
2. İade koşullarına uymayan ürünlerde müşteriye nedenini açıklayan hazır yanıtı kullanın.
3. Hasarlı ürünlerde fotoğraf isteyin; tutanak varsa kargo firmasına hasar kaydı açın.
4. Onaylanan iadeyi `iade` etiketiyle işaretleyin ve lojistik ekibine atayın.
5. Depo kontrolünden sonra para iadesini 3 iş günü içinde başlatın.
"""),
     ("Returns: internal procedure",
      "For staff: checking and approving return requests.",
      """**For staff only.**

1. Check the order number and the delivery date in the request (14 days).
2. For items outside the policy, use the canned reply that explains why.
3. For damaged items ask for photos; if there is a damage report, open a claim with the carrier.
4. Tag approved returns with `iade` and assign them to the logistics team.
5. After the warehouse check, start the refund within 3 working days.
""")),
]

# tr slug → related tr slugs (the English versions get the matching links).
RELATED = {
    "iade-kosullari": ["iade-nasil-yapilir", "para-iadesi-suresi", "urun-degisimi"],
    "iade-nasil-yapilir": ["iade-kosullari", "para-iadesi-suresi"],
    "siparis-iptali": ["iade-nasil-yapilir", "siparis-degisikligi"],
    "kargo-takibi": ["teslimat-sureleri", "siparis-durumu"],
    "odeme-yontemleri": ["taksitli-odeme", "odeme-hatasi"],
    "hasarli-paket": ["eksik-urun", "iade-kosullari"],
}
