package com.example.legacy;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import javax.crypto.Cipher;

public final class KeyFactory {
    public static KeyPair partnerKey() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(1024);
        return generator.generateKeyPair();
    }

    public static byte[] digest(byte[] data) throws Exception {
        return MessageDigest.getInstance("SHA-1").digest(data);
    }

    public static Cipher payloadCipher() throws Exception {
        return Cipher.getInstance("AES/GCM/NoPadding");
    }
}
