/* Device provisioning: generates the device identity keys. */
#include <openssl/ec.h>
#include <openssl/md5.h>
#include <openssl/obj_mac.h>
#include <openssl/rsa.h>

int make_rsa(RSA *rsa, BIGNUM *e)
{
    return RSA_generate_key_ex(rsa, 1024, e, NULL);
}

EC_KEY *make_ec(void)
{
    return EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
}

void firmware_digest(const unsigned char *data, size_t len, unsigned char *out)
{
    MD5(data, len, out);
}
