"""The member's own pages: ⑦ 会員登録情報の照会・変更, ⑧ 退会のお手続き, ⑨ 各種お手続き."""
