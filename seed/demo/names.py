"""Data pools for plausible parties in Kabupaten Landak: names, companies, addresses, numbers.

Pure data, no logic: seed.demo.identities draws from these with the run's seeded random.Random.
"""
from __future__ import annotations

# --------------------------------------------------------------------------- name pools

DAYAK_MALE = (
    "Yohanes", "Paulus", "Petrus", "Markus", "Lukas", "Matius", "Stefanus", "Fransiskus", "Agustinus",
    "Yosef", "Antonius", "Benediktus", "Kornelius", "Herkulanus", "Ignatius", "Vinsensius", "Hendrikus",
    "Yulius", "Mikael", "Robertus", "Heronimus", "Aloysius", "Damianus", "Valentinus", "Krisantus",
)
DAYAK_FEMALE = (
    "Maria", "Theresia", "Veronika", "Agnes", "Margaretha", "Yuliana", "Katarina", "Elisabeth", "Lusia",
    "Fransiska", "Natalia", "Martina", "Yosefina", "Skolastika", "Florentina", "Angela", "Karolina",
)
DAYAK_FAMILY = (
    "Ahen", "Alon", "Ijon", "Abeng", "Ason", "Nyangun", "Atok", "Bujang", "Jamin", "Lambang", "Sahat",
    "Sepan", "Acan", "Alui", "Anyeng", "Bahen", "Dodo", "Iyot", "Jarau", "Kanyan", "Lelek", "Minggu",
    "Nyawen", "Odong", "Pancor", "Rajut", "Sahu", "Tingang", "Unyang", "Aweng",
)
MALAY_MALE = (
    "Muhammad", "Syarif", "Abang", "Uray", "Gusti", "Hamdan", "Syahrul", "Zainal", "Rahmat", "Hasan",
    "Ismail", "Ridwan", "Zulkarnain", "Fauzi", "Hamdani", "Iskandar", "Jumadi", "Mahmud", "Nasrullah",
)
MALAY_FEMALE = (
    "Siti", "Nurul", "Dayang", "Utin", "Syarifah", "Rahmawati", "Fatimah", "Aisyah", "Halimah", "Mariam",
    "Nurhayati", "Khadijah", "Zubaidah", "Salmah",
)
MALAY_SECOND = (
    "Abdullah", "Rizki", "Hidayat", "Arifin", "Hamzah", "Yusuf", "Ramli", "Kadir", "Saleh", "Hamid",
    "Alkadrie", "Rahman", "Sulaiman", "Hidayah", "Aminah", "Zahra", "Amalia", "Rosita",
)
CHINESE_SURNAME = ("Tjhang", "Bong", "Lie", "Tjhai", "Huang", "Lim", "Phang", "Chin", "Tan", "Ng", "Liu", "Wong", "Tjong")
CHINESE_GIVEN_MALE = ("Kim Fat", "Ah Kiong", "Chong Hin", "Sui Min", "Fui Khiong", "Jun Fa", "Siong Hin", "Kon Fo")
CHINESE_GIVEN_FEMALE = ("Chui Mie", "Mei Lan", "Siu Lan", "Kui Fa", "Nyuk Lan", "Fung Ying")
CHINESE_INDO_MALE = ("Hendra", "Rudy", "Suryadi", "Susanto", "Budi", "Jimmy", "Hartono", "Wijaya", "Aliong", "Apheng", "Akiong")
CHINESE_INDO_FEMALE = ("Fenny", "Lina", "Susanti", "Meliana", "Yanti", "Lily", "Herlina", "Apui")
CHINESE_INDO_SECOND = ("Gunawan", "Wijaya", "Hartono", "Salim", "Tanoto", "Kurniawan", "Halim", "Setiawan", "Santoso")
JAVANESE_MALE = ("Sutrisno", "Slamet", "Bambang", "Eko", "Agus", "Joko", "Sugeng", "Suparman", "Wagiman", "Heru", "Teguh", "Budi")
JAVANESE_FEMALE = ("Sri", "Dwi", "Tri", "Endang", "Wulan", "Sumarni", "Suwarni", "Rini", "Yuni")
JAVANESE_SECOND = (
    "Riyadi", "Susilo", "Prasetyo", "Santoso", "Purnomo", "Wahyuni", "Lestari", "Handayani", "Widodo",
    "Nugroho", "Raharjo", "Setiyono", "Wibowo", "Kusumawati",
)

COMPANY_HEAD = (
    "Trans", "Armada", "Angkutan", "Logistik", "Ekspedisi", "Sarana", "Mitra", "Karya", "Putra", "Cahaya",
    "Sinar", "Bintang", "Harapan", "Global", "Bina", "Rimba", "Sumber", "Anugerah", "Berkat", "Tunas",
)
COMPANY_PLACE = (
    "Landak", "Ngabang", "Borneo", "Kalbar", "Khatulistiwa", "Kapuas", "Mandor", "Menjalin", "Darit",
    "Senakin", "Pahauman", "Sebangki", "Jelimpo", "Sompak", "Karangan", "Air Besar", "Temila", "Banyuke",
)
COMPANY_TAIL = (
    "Sejahtera", "Jaya", "Abadi", "Makmur", "Sentosa", "Perkasa", "Lestari", "Bersama", "Utama", "Prima",
    "Raya", "Mandiri", "Sukses", "Gemilang", "Bersatu", "Indah", "Nusantara", "Permai",
)
COMPANY_TAIL2 = ("", "", "", "Abadi", "Mandiri", "Sejahtera", "Jaya", "Utama", "Perkasa", "Lestari")
KOPERASI_KIND = ("Koperasi Angkutan", "Koperasi Jasa Angkutan", "Koperasi Serba Usaha", "Koperasi Produsen Sawit", "Koperasi Konsumen")
YAYASAN_KIND = ("Yayasan Pendidikan", "Yayasan Kesehatan", "Yayasan Sosial")

LEGAL_FORM_WEIGHTS = (
    ("PT", 45), ("CV", 35), ("KOPERASI", 10), ("PERSEORANGAN", 5), ("FIRMA", 2), ("YAYASAN", 2), ("BUMD", 1),
)
POSITIONS = {
    "PT": (("Direktur", "Direktur Utama"), ("Komisaris", "Manajer Operasional", "Kepala Pool")),
    "BUMD": (("Direktur Utama",), ("Direktur Operasional", "Manajer Operasional")),
    "CV": (("Direktur", "Persero Pengurus"), ("Persero Komanditer", "Manajer Operasional")),
    "FIRMA": (("Sekutu Pengurus",), ("Sekutu", "Manajer Operasional")),
    "KOPERASI": (("Ketua Koperasi",), ("Sekretaris Koperasi", "Bendahara Koperasi", "Manajer Koperasi")),
    "YAYASAN": (("Ketua Yayasan", "Ketua Pengurus Yayasan"), ("Sekretaris Yayasan", "Bendahara Yayasan")),
    "PERSEORANGAN": (("Pemilik",), ("Kuasa Pemilik",)),
}
STREETS = (
    "Pangeran Cinata", "Raya Ngabang", "Lintas Kalimantan Poros Tengah", "Ahmad Yani", "Gusti Sulung Lelanang",
    "Sultan Syarif Abdurrahman", "Bhayangkara", "Diponegoro", "Veteran", "Merdeka", "Pahlawan", "Dr. Sutomo",
    "Raya Darit", "Raya Mandor", "Raya Menjalin", "Raya Pahauman", "Simpang Ampar", "Keramat", "Kartini",
    "Pattimura", "Tanjungpura", "Pemuda", "Raya Senakin", "Trans Kalimantan", "Gereja", "Masjid Jami",
)
# Ngabang is the regency seat; the other kecamatan share the rest.
KECAMATAN_WEIGHT = {"61.08.01": 35, "61.08.07": 10, "61.08.04": 8, "61.08.03": 7}
MOBILE_PREFIXES = (
    "0811", "0812", "0813", "0821", "0822", "0823", "0852", "0853", "0814", "0815", "0816", "0855",
    "0856", "0857", "0858", "0817", "0818", "0819", "0859", "0877", "0878", "0895", "0896", "0897",
    "0881", "0882", "0888",
)
NIB_PREFIXES = ("9120", "8120", "1220", "0220", "2220")
NPWP_KPP = ("704", "701", "706")  # KPP Pratama Mempawah (Landak), Pontianak, Pontianak Timur
