/*
 * fw_build_config.h - build-time defaults of the tag configuration, used
 * when UICR holds no valid configuration (unprogrammed: all 0xFFFFFFFF).
 * Each value can be overridden with -D (the CMake cache variables
 * BGW_FW_* in firmware/CMakeLists.txt pass them on).
 */
#ifndef FW_BUILD_CONFIG_H
#define FW_BUILD_CONFIG_H

#ifndef FW_CFG_INTERVAL_MS
#define FW_CFG_INTERVAL_MS 1000
#endif
#ifndef FW_CFG_TX_POWER_DBM
#define FW_CFG_TX_POWER_DBM 0
#endif
#ifndef FW_CFG_IBEACON_POWER
#define FW_CFG_IBEACON_POWER (-59)
#endif
#ifndef FW_CFG_EDDYSTONE_POWER
#define FW_CFG_EDDYSTONE_POWER (-18)
#endif
#ifndef FW_CFG_EID_EXPONENT
#define FW_CFG_EID_EXPONENT 10
#endif
#ifndef FW_CFG_TLM_EVERY
#define FW_CFG_TLM_EVERY 10
#endif
/* Frame kinds (enum fw_frame_kind): 1 iBeacon, 2 UID, 3 URL, 4 TLM, 5 EID. */
#ifndef FW_CFG_SCHEDULE
#define FW_CFG_SCHEDULE 1, 2
#endif
/* 1: the TLM of an EID tag is sent encrypted (eTLM); plain TLM is
 * refused on EID tags. CMake sets it when the schedule has eid. */
#ifndef FW_CFG_TLM_ENCRYPTED
#define FW_CFG_TLM_ENCRYPTED 0
#endif
/* All zero means "no key provisioned": a tag refuses EID without one. */
#ifndef FW_CFG_IDENTITY_KEY
#define FW_CFG_IDENTITY_KEY 0x00
#endif
#ifndef FW_CFG_IBEACON_UUID
#define FW_CFG_IBEACON_UUID 0xE2, 0xC5, 0x6D, 0xB5, 0xDF, 0xFB, 0x48, 0xD2, \
	0xB0, 0x60, 0xD0, 0xF5, 0xA7, 0x10, 0x96, 0xE0
#endif
#ifndef FW_CFG_IBEACON_MAJOR
#define FW_CFG_IBEACON_MAJOR 1
#endif
#ifndef FW_CFG_IBEACON_MINOR
#define FW_CFG_IBEACON_MINOR 1
#endif
#ifndef FW_CFG_UID_NAMESPACE
#define FW_CFG_UID_NAMESPACE 0xED, 0xD1, 0xEB, 0xEA, 0xC0, 0x4E, 0x5D, 0xEF, 0xA0, 0x17
#endif
#ifndef FW_CFG_UID_INSTANCE
#define FW_CFG_UID_INSTANCE 0x00, 0x00, 0x00, 0x00, 0x00, 0x01
#endif
/* Encoded Eddystone-URL: 0x03 "https://" + "example" + 0x07 ".com". */
#ifndef FW_CFG_URL
#define FW_CFG_URL 0x03, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x07
#endif

#endif
